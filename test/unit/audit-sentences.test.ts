import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, auditSentence, type AuditAction } from '../../src/domain/audit-sentences.js';

const deliveries = { queued: 0, sending: 0, sent: 118, failed: 2, halted: 0, skipped: 1, unknown: 0 };

/** Each action with data as the code records it, and the sentence a person reads. */
const CASES: Record<AuditAction, [Record<string, unknown>, string]> = {
  'campaign.create': [{ subject: 'Quarter close' }, 'Ana created the campaign “Quarter close”.'],
  'campaign.edit': [
    { fields: ['body', 'subject'], previousStatus: 'pending_approval', voidedApprovals: 1 },
    'Ana edited it (body, subject); it went back to draft from waiting for approval and 1 approval was voided.',
  ],
  'campaign.submit': [
    { contentHash: 'abc', recipientCount: 120, approversAsked: ['a@x', 'b@x', 'c@x'] },
    'Ana submitted it for approval: 120 recipients frozen, 3 approvers asked.',
  ],
  'campaign.resubmit': [
    { contentHash: 'abc', recipientCount: 1, approversAsked: ['a@x'] },
    'Ana asked for approval to resume it: 1 recipient, 1 approver asked.',
  ],
  'campaign.approve': [{ contentHash: 'abc', via: 'link' }, 'Ana approved it from the emailed link.'],
  'campaign.reject': [
    { contentHash: 'abc', via: 'api', reason: 'wrong date' },
    'Ana rejected it: “wrong date”; it went back to the author as a draft.',
  ],
  'campaign.schedule': [
    { approvedBy: ['u1', 'u2'], scheduledFor: '2030-01-02T09:00:00.000Z', contentHash: 'abc' },
    'It reached its approvals (2 approvers) and was scheduled to send at Wed 2 Jan 2030, 10:00 Europe/Berlin.',
  ],
  'campaign.quiet_hours': [
    { startsAt: '2030-01-02T07:00:00.000Z' },
    'Its start fell in quiet hours: it waits until Wed 2 Jan 2030, 08:00 Europe/Berlin.',
  ],
  'campaign.start': [{ recipientCount: 3000, firstWave: 150 }, 'Sending started to 3,000 recipients, a first wave of 150 first.'],
  'campaign.first_wave_sent': [
    { deliveries, continuesAt: '2030-01-02T09:10:00.000Z' },
    'The first wave went out (118 sent, 2 failed, 1 skipped); the rest continues at Wed 2 Jan 2030, 10:10 Europe/Berlin unless it is halted.',
  ],
  'campaign.continue': [{ early: true }, 'Ana sent the rest after the first wave without waiting for the pause to end.'],
  'campaign.sent': [{ deliveries }, 'Sending finished: 118 sent, 2 failed, 1 skipped.'],
  'campaign.halt': [
    { reason: 'wrong list', inFlight: 3, stopped: 210, previousStatus: 'sending' },
    'Ana halted it: “wrong list”. 210 deliveries were stopped; 3 were already in flight.',
  ],
  'campaign.cancel': [{ previousStatus: 'scheduled' }, 'Ana cancelled it while it was scheduled.'],
  'campaign.recall': [
    { correctionId: 'c2', note: 'Ignore it', halted: true },
    'Ana recalled it, halting what had not gone yet, and created a correction for everyone it reached, with the note “Ignore it”.',
  ],
  'campaign.test_send': [{ to: 'ana@x', renderedFor: 'ben@x' }, 'Ana sent a test to ana@x, as ben@x would get it.'],
  'correction.late_recipients': [
    { count: 2 },
    '2 recipients of the original whose message was in flight at the recall landed and joined this correction.',
  ],
  'deliveries.unknown': [
    { count: 1 },
    '1 delivery was marked unknown: a worker stopped during the SMTP hand-off, so it may have arrived; it will not be resent.',
  ],
  'approval.reminder': [{ approver: 'bob@x' }, 'bob@x had not decided and was sent a reminder with a fresh link.'],
  'approval.escalated': [
    { sendAt: '2030-01-02T09:00:00.000Z' },
    'The admins were told: the send time Wed 2 Jan 2030, 10:00 Europe/Berlin is near and it does not have its approvals.',
  ],
  'approvals.void': [{ approverId: 'u1', reason: 'bob@x was deactivated' }, 'An approval was voided: bob@x was deactivated.'],
  'kill_switch.engage': [{ reason: 'incident' }, 'Ana engaged the kill switch: “incident”; everything scheduled or sending was halted.'],
  'kill_switch.release': [{}, 'Ana released the kill switch.'],
  'list.create': [{ listId: 'l1', name: 'All staff' }, 'Ana created the list “All staff”.'],
  'list.import': [{ listId: 'l1', imported: 120, mergedDuplicates: 1 }, 'Ana imported 120 members into a list (1 duplicate merged).'],
  'policy.change': [
    { digest: 'd', file: 'policy.yaml', policy: {} },
    'Countersign started with a new blast-radius policy from policy.yaml.',
  ],
  'suppressions.import': [{ count: 5 }, 'Ana added 5 addresses to the suppression list.'],
  'suppressions.remove': [{ email: 'gone@x' }, 'Ana removed gone@x from the suppression list.'],
  'user.add': [{ userId: 'u1', email: 'ben@x', roles: ['approver'] }, 'Ana added ben@x with the roles approver.'],
  'user.roles': [
    { userId: 'u1', roles: ['author', 'admin'], granted: ['admin'], removed: [] },
    'Ana changed a person’s roles to author, admin (granted: admin; removed: none).',
  ],
  'user.roles.requested': [{ userId: 'u1', roles: ['admin'] }, 'Ana asked to grant admin; a second admin must confirm it.'],
  'user.roles.confirmed': [
    { userId: 'u1', granted: ['admin'], requestedBy: 'cho@x' },
    'Ana confirmed the grant of admin asked for by cho@x.',
  ],
  'user.roles.cancelled': [{ userId: 'u1', roles: ['admin'] }, 'Ana cancelled the grant of admin.'],
  'user.deactivate': [{ userId: 'u1', email: 'ben@x' }, 'Ana deactivated ben@x: their sessions and tokens stopped working.'],
  'user.reactivate': [{ userId: 'u1', email: 'ben@x' }, 'Ana reactivated ben@x.'],
  'token.issue': [{ tokenId: 't1', label: 'laptop' }, 'Ana made an API token of their own, “laptop”.'],
  'token.revoke': [{ tokenId: 't1', label: 'laptop' }, 'Ana revoked their API token “laptop”.'],
  'retraction.request': [
    { retractionId: 'r1', correctionId: 'c2', items: 40, backend: 'imap' },
    'Ana asked to take the message out of 40 mailboxes through imap; a dry run checks them first.',
  ],
  'retraction.checked': [
    { retractionId: 'r1', dryRun: { would_remove: 38, not_found: 1, already_deleted: 1, failed: 0, not_retractable: 0 } },
    "The retraction's dry run found: 38 would remove, 1 not found, 1 already deleted. It waits for its approvals.",
  ],
  'retraction.approve': [{ retractionId: 'r1' }, 'Ana approved the retraction.'],
  'retraction.start': [{ retractionId: 'r1' }, 'The retraction has its approvals and began moving the message to Trash.'],
  'retraction.halt': [
    { retractionId: 'r1', reason: 'wrong mailboxes', stopped: 30, inFlight: 1, previousStatus: 'running' },
    'Ana halted the retraction: “wrong mailboxes”. 30 mailboxes were left untouched; 1 was being worked on.',
  ],
  'retraction.finish': [
    { retractionId: 'r1', outcomes: { removed: 38, not_found: 2, halted: 0 } },
    'The retraction finished: 38 removed, 2 not found.',
  ],
};

describe('auditSentence', () => {
  it.each(AUDIT_ACTIONS.map((action) => [action, ...CASES[action]] as const))('%s reads as a sentence', (action, data, sentence) => {
    expect(auditSentence({ action, who: 'Ana', data, timeZone: 'Europe/Berlin' })).toBe(sentence);
  });

  it('has a case for every action and no other', () => {
    expect(Object.keys(CASES).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('words the variants of an action by what was recorded', () => {
    expect(auditSentence({ action: 'campaign.create', who: 'Ana', data: { kind: 'correction', originalId: 'c1' }, timeZone: 'UTC' })).toBe(
      'Ana created this correction of a recalled campaign.',
    );
    expect(auditSentence({ action: 'campaign.continue', who: 'Countersign', data: { early: false }, timeZone: 'UTC' })).toBe(
      'The first wave’s pause ended and the rest began to go out.',
    );
    expect(
      auditSentence({
        action: 'campaign.halt',
        who: 'Countersign',
        data: { reason: 'renderer changed', inFlight: 1, stopped: 1 },
        timeZone: 'UTC',
      }),
    ).toBe('Countersign halted it: “renderer changed”. 1 delivery was stopped; 1 was already in flight.');
    expect(auditSentence({ action: 'campaign.approve', who: 'Ben', data: { via: 'api' }, timeZone: 'UTC' })).toBe(
      'Ben approved it through the API.',
    );
    expect(
      auditSentence({
        action: 'campaign.edit',
        who: 'Ana',
        data: { fields: [], previousStatus: 'draft', voidedApprovals: 0 },
        timeZone: 'UTC',
      }),
    ).toBe('Ana edited it.');
    expect(auditSentence({ action: 'campaign.sent', who: 'Countersign', data: { deliveries: {} }, timeZone: 'UTC' })).toBe(
      'Sending finished: nothing delivered.',
    );
  });

  it('names an action this version does not know as it was recorded', () => {
    expect(auditSentence({ action: 'token.rotate', who: 'Ana', data: {}, timeZone: 'UTC' })).toBe('Ana recorded “token.rotate”.');
  });
});
