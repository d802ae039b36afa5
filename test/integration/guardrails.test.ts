import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCampaign } from '../../src/services/sending.js';
import { sweep } from '../../src/services/repair.js';
import { TEST_HEADER } from '../../src/services/test-send.js';
import { Harness, linkIn, people } from '../support/harness.js';

function policyFile(yaml: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'countersign-policy-')), 'policy.yaml');
  writeFileSync(file, yaml);
  return file;
}

const csv = (rows: string[][]) => rows.map((r) => r.join(',')).join('\n');

describe('a first wave', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ env: { HOLD_WINDOW_SECONDS: '0', FIRST_WAVE_HOLD_MINUTES: '10', DELIVERY_BATCH_SIZE: '100' } });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  const waveOf = (id: string) =>
    h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.wave?.stage === 'paused' && r.body.deliveries.sending === 0,
      'the first wave to go out',
      60_000,
    );

  it('goes to 5 % of 2,000 across the domains, then nothing more during the pause; a halt then stops the rest and a recall corrects exactly the wave', async () => {
    const recipients = [...people(1000, 'a', 'corp.example.com'), ...people(1000, 'b', 'plant.corp.example.com')];
    const { id } = await h.approvedCampaign({ subject: 'Wave policy', recipients, firstWave: { share: 0.05 } });
    const paused = await waveOf(id);
    expect(paused.body.wave).toMatchObject({ size: 100, stage: 'paused' });
    expect(new Date(paused.body.wave.continuesAt).getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);
    const wave = h.sink.withSubject('Wave policy');
    expect(wave).toHaveLength(100);
    // Sampled across the domains: half from each.
    expect(wave.filter((m) => m.envelopeTo[0]!.endsWith('@corp.example.com'))).toHaveLength(50);
    // Nothing more is on its way: the ledger holds the wave only, and once the wave's last job
    // has ended no delivery job is left.
    expect(paused.body.deliveries).toMatchObject({ sent: 100, queued: 0, sending: 0 });
    await h.until(
      () => h.ctx.queues.deliver.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
      (c) => Object.values(c).every((n) => n === 0),
      'the delivery queue to empty',
    );
    expect(h.sink.withSubject('Wave policy')).toHaveLength(100);
    // Its people are told the wave went, with the way to halt it.
    await h.sink.waitUntil(() => h.sink.withSubject('First wave sent: Wave policy').length === 3, 30_000, 'wave notices');

    const halted = await h.api('alice', 'POST', `/campaigns/${id}/halt`, { reason: 'wrong link in the wave' });
    expect(halted.body).toMatchObject({ inFlight: 0, stopped: 1900 });
    const recall = await h.api('author', 'POST', `/campaigns/${id}/recall`, {});
    expect(recall.body.correction.recipientCount).toBe(100);
    await h.approveCampaign(recall.body.correction.id, recall.body.correction.contentHash);
    await h.waitForStatus(recall.body.correction.id, 'sent', 60_000);
    const corrected = h.sink
      .withSubject('Re: Wave policy')
      .map((m) => m.envelopeTo[0])
      .sort();
    expect(corrected).toEqual(wave.map((m) => m.envelopeTo[0]).sort());
    expect(h.sink.withSubject('Wave policy')).toHaveLength(100);
  });

  it('"continue now" sends the rest, each recipient exactly once', async () => {
    const { id } = await h.approvedCampaign({ subject: 'Wave continue', recipients: people(120, 'c'), firstWave: { count: 12 } });
    await waveOf(id);
    expect(h.sink.withSubject('Wave continue')).toHaveLength(12);
    expect((await h.api('author', 'POST', `/campaigns/${id}/continue`)).status).toBe(403);
    expect((await h.api('alice', 'POST', `/campaigns/${id}/continue`)).status).toBe(200);
    await h.waitForStatus(id, 'sent', 60_000);
    const arrived = h.sink.withSubject('Wave continue').map((m) => m.envelopeTo[0]);
    expect(arrived).toHaveLength(120);
    expect(new Set(arrived).size).toBe(120);
  });

  it('continues by itself once the pause is over, on the context clock', async () => {
    const { id } = await h.approvedCampaign({ subject: 'Wave by itself', recipients: people(60, 'd'), firstWave: { count: 6 } });
    await waveOf(id);
    const realNow = h.ctx.now;
    h.ctx.now = () => new Date(realNow().getTime() + 11 * 60_000);
    try {
      await sweep(h.ctx);
      await h.waitForStatus(id, 'sent', 60_000);
    } finally {
      h.ctx.now = realNow;
    }
    expect(new Set(h.sink.withSubject('Wave by itself').map((m) => m.envelopeTo[0])).size).toBe(60);
  });
});

describe('the blast-radius policy', () => {
  let h: Harness;
  let staffList: string;

  beforeAll(async () => {
    const file = policyFile(`
approvals:
  - { minRecipients: 50, required: 3 }
firstWave:
  - { minRecipients: 80, share: 0.1 }
sensitiveLists:
  - { list: All staff, adminApprover: true, holdMinutes: 30 }
externalRecipients: when_marked
maxAudience: 150
senders:
  - { address: internal-comms@example.com }
  - { address: ceo@example.com, name: The CEO, users: [ceo-office@staff.example.com] }
quietHours: { timeZone: Europe/Berlin, nights: { from: "20:00", to: "07:00" }, weekends: true }
`);
    h = await Harness.start({ workers: false, env: { POLICY_FILE: file, HOLD_WINDOW_SECONDS: '0' } });
    await h.addAuthorAndApprovers();
    await h.addUser('carol', ['approver']);
    await h.addUser('dana', ['approver', 'admin']);
    const list = await h.api('author', 'POST', '/lists', { name: 'All staff' });
    staffList = list.body.id;
    await h.api(
      'author',
      'POST',
      `/lists/${staffList}/members`,
      csv([['email', 'name'], ...people(20, 'staff').map((p) => [p.email, p.name])]),
      { 'content-type': 'text/csv' },
    );
  });
  afterAll(() => h?.stop());

  it('asks for more approvers, an admin and a longer hold where its rules say, and says why at submit and on the approval page', async () => {
    const id = await h.createCampaign({ subject: 'Policy applies', listIds: [staffList], recipients: people(40, 'more') });
    const submitted = await h.api('author', 'POST', `/campaigns/${id}/submit`);
    expect(submitted.status).toBe(200);
    expect(submitted.body.approvals.required).toBe(3);
    expect(submitted.body.policy).toMatchObject({ requiredApprovals: 3, adminApprover: true, holdMinutes: 30 });
    expect(submitted.body.policy.applied).toEqual([
      '60 recipients (50 or more) need 3 approvers',
      'the list "All staff" is sensitive: it needs an admin among the approvers and a hold of 30 minutes',
      'quiet hours (20:00–07:00, weekends, Europe/Berlin): nothing starts inside them',
    ]);
    await h.flushNotifications();
    const request = h.sink.withSubject('Approval needed: Policy applies').find((m) => m.envelopeTo[0] === h.users.alice!.email)!;
    expect(request.parsed.text).toContain('the list "All staff" is sensitive');
    const page = await (await fetch(linkIn(request, 'approve'))).text();
    expect(page).toContain('<li>Policy: 60 recipients (50 or more) need 3 approvers</li>');
    // Three approvers but no admin among them: no quorum. An admin's approval makes it.
    await h.approveCampaign(id, submitted.body.contentHash, ['alice', 'bob', 'carol']);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.status).toBe('pending_approval');
    const approved = await h.api('dana', 'POST', `/campaigns/${id}/approve`, { contentHash: submitted.body.contentHash });
    expect(approved.body.status).toBe('scheduled');
    const holdMs = new Date(approved.body.scheduledFor).getTime() - new Date(approved.body.quorumReachedAt).getTime();
    expect(holdMs).toBe(30 * 60_000);
  });

  it('imposes a first wave on a large audience', async () => {
    const id = await h.createCampaign({ subject: 'Imposed wave', recipients: people(100, 'wide') });
    const submitted = await h.api('author', 'POST', `/campaigns/${id}/submit`);
    expect(submitted.body.policy.applied).toContain('80 or more recipients must go first to a first wave');
    expect(submitted.body.wave).toMatchObject({ size: 10, stage: null });
  });

  it('refuses recipients outside the organisation unless the campaign is marked external, an audience over the maximum, and a sender the author may not use', async () => {
    const outside = await h.createCampaign({
      subject: 'Partners',
      recipients: [...people(3, 'in'), ...people(2, 'out', 'partner.example.org')],
    });
    const refused = await h.api('author', 'POST', `/campaigns/${outside}/submit`);
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([
      { field: 'audience', message: '2 recipient(s) are outside the organisation: mark the campaign external to send to them' },
    ]);
    expect((await h.api('author', 'GET', `/campaigns/${outside}`)).body.status).toBe('draft');
    expect((await h.api('author', 'PATCH', `/campaigns/${outside}`, { external: true })).status).toBe(200);
    const marked = await h.api('author', 'POST', `/campaigns/${outside}/submit`);
    expect(marked.status).toBe(200);
    expect(marked.body.policy.applied).toContain('marked external: 2 recipient(s) outside the organisation');

    const huge = await h.createCampaign({ subject: 'Too many', recipients: people(151, 'huge') });
    expect((await h.api('author', 'POST', `/campaigns/${huge}/submit`)).body.issues).toEqual([
      { field: 'audience', message: '151 recipients is more than the policy allows (150)' },
    ]);

    const ceo = await h.api('author', 'POST', '/campaigns', {
      subject: 'From the top',
      body: 'Hello',
      fromAddress: 'ceo@example.com',
      fromName: 'The CEO',
      audience: { recipients: people(2, 'top') },
    });
    expect((await h.api('author', 'POST', `/campaigns/${ceo.body.id}/submit`)).body.issues).toEqual([
      { field: 'fromAddress', message: 'author@staff.example.com may not send as ceo@example.com' },
    ]);
  });

  it('starts nothing inside quiet hours: a send due then waits for the window to end', async () => {
    const { id, contentHash } = await h.approvedCampaign({ subject: 'Late night', recipients: people(3, 'night') });
    const realNow = h.ctx.now;
    // Wednesday 2 December 2026, 23:30 in Berlin (22:30 UTC): the night window runs to 07:00.
    h.ctx.now = () => new Date('2026-12-02T22:30:00.000Z');
    try {
      expect(await startCampaign(h.ctx, { campaignId: id, contentHash })).toBe('not_due');
    } finally {
      h.ctx.now = realNow;
    }
    const campaign = (await h.api('author', 'GET', `/campaigns/${id}`)).body;
    expect(campaign.status).toBe('scheduled');
    expect(campaign.scheduledFor).toBe('2026-12-03T06:00:00.000Z');
  });

  it('refuses a policy file with a wrong rule, naming its line', async () => {
    const { parsePolicy } = await import('../../src/policy-file.js');
    expect(() =>
      parsePolicy('approvals:\n  - { minRecipients: 50, required: 3 }\n  - { minRecipients: 10, required: "two" }\n', 'policy.yaml'),
    ).toThrow(/policy\.yaml, line 3 \(approvals\.1\.required\): Invalid input: expected number/);
    expect(() => parsePolicy('externalRecipients: sometimes\n', 'policy.yaml')).toThrow(/line 1 \(externalRecipients\)/);
    expect(() => parsePolicy('maxAudience: 10\nunknownRule: true\n', 'policy.yaml')).toThrow(
      /policy\.yaml, line 1 \(policy\): Unrecognized key: "unknownRule"/,
    );
  });
});

describe('suppressions, test sends, reminders and escalation', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      env: { HOLD_WINDOW_SECONDS: '0', APPROVAL_REMINDER_HOURS: '24', APPROVAL_ESCALATION_HOURS: '2' },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin']);
  });
  afterAll(() => h?.stop());

  it('skips suppressed recipients with the reason, and tells approvers how many and why; mandatory mail still skips who left', async () => {
    const imported = await h.api(
      'admin',
      'POST',
      '/suppressions',
      csv([
        ['email', 'kind', 'reason'],
        ['gone@corp.example.com', 'left', 'left in May'],
        ['quiet@corp.example.com', 'opted_out', 'asked on 3 June'],
      ]),
      { 'content-type': 'text/csv' },
    );
    expect(imported.body).toEqual({ imported: 2 });
    expect((await h.api('author', 'POST', '/suppressions', [])).status).toBe(403);
    const recipients = [
      ...people(3, 'stay'),
      { email: 'gone@corp.example.com', name: 'Gone' },
      { email: 'quiet@corp.example.com', name: 'Quiet' },
    ];

    const id = await h.createCampaign({ subject: 'Optional news', recipients });
    const contentHash = await h.submitCampaign(id);
    const campaign = (await h.api('author', 'GET', `/campaigns/${id}`)).body;
    expect(campaign).toMatchObject({ recipientCount: 5, skipped: 2 });
    await h.flushNotifications();
    const page = await (await fetch(linkIn(h.sink.withSubject('Approval needed: Optional news')[0]!, 'approve'))).text();
    expect(page).toContain('<li>Skipped: 1 recipient(s), suppressed: left the organisation.</li>');
    expect(page).toContain('<li>Skipped: 1 recipient(s), suppressed: opted out of non-mandatory mail.</li>');
    await h.approveCampaign(id, contentHash);
    expect(await startCampaign(h.ctx, { campaignId: id, contentHash })).toBe('started');
    const rows = (await h.api('author', 'GET', `/campaigns/${id}/deliveries?status=skipped`)).body.deliveries;
    expect(rows.map((r: { email: string; smtpResponse: string }) => [r.email, r.smtpResponse])).toEqual([
      ['gone@corp.example.com', 'suppressed: left the organisation (left in May)'],
      ['quiet@corp.example.com', 'suppressed: opted out of non-mandatory mail (asked on 3 June)'],
    ]);

    const mandatory = await h.api('author', 'POST', '/campaigns', {
      subject: 'Mandatory',
      body: 'Hello',
      mandatory: true,
      audience: { recipients },
    });
    await h.submitCampaign(mandatory.body.id);
    expect((await h.api('author', 'GET', `/campaigns/${mandatory.body.id}`)).body.skipped).toBe(1);
  });

  it('a test send goes to the signed-in person alone, rendered for the recipient asked for, and never reaches the ledger', async () => {
    const id = await h.createCampaign({
      subject: 'Test me {{firstName}}',
      body: 'Hello {{firstName}}',
      recipients: [...people(2, 'tst'), { email: 'zoe@corp.example.com', name: 'Zoe Zed' }],
    });
    const sent = await h.api('alice', 'POST', `/campaigns/${id}/test-send`, { recipient: 'zoe' });
    expect(sent.body).toEqual({ sentTo: h.users.alice!.email, renderedFor: 'zoe@corp.example.com' });
    const [test] = h.sink.withSubject('[Test] Test me Zoe');
    expect(test!.envelopeTo).toEqual([h.users.alice!.email]);
    expect(test!.parsed.headers.get(TEST_HEADER.toLowerCase())).toBe(`campaign=${id}; rendered-for=zoe@corp.example.com`);
    expect(test!.parsed.text).toContain('Hello Zoe');
    expect(h.sink.to('zoe@corp.example.com')).toHaveLength(0);
    const ledger = await h.db.selectFrom('deliveries').select('seq').where('campaign_id', '=', id).execute();
    expect(ledger).toEqual([]);
    const audit = (await h.api('author', 'GET', `/campaigns/${id}/audit`)).body.events.map((e: { action: string }) => e.action);
    expect(audit).toContain('campaign.test_send');
  });

  it('reminds approvers who have not decided with a fresh link, and tells admins once when the send time nears without a quorum', async () => {
    const id = await h.createCampaign({
      subject: 'Waiting for you',
      recipients: people(2, 'wait'),
      sendAt: new Date(Date.now() + 25.5 * 3600_000).toISOString(),
    });
    await h.approveCampaign(id, await h.submitCampaign(id), ['alice']);
    await h.flushNotifications();
    const realNow = h.ctx.now;
    h.ctx.now = () => new Date(realNow().getTime() + 24.5 * 3600_000);
    try {
      await sweep(h.ctx);
      await sweep(h.ctx);
    } finally {
      h.ctx.now = realNow;
    }
    await h.flushNotifications();
    // Bob had not decided: one reminder; Alice had.
    const reminders = h.sink.withSubject('Reminder: approval needed: Waiting for you');
    expect(reminders.map((m) => m.envelopeTo[0])).toEqual([h.users.bob!.email]);
    expect((await fetch(linkIn(reminders[0]!, 'approve'))).status).toBe(200);
    // An hour before the send time with 1 of 2: the admin is told, once however many sweeps.
    const escalations = h.sink.withSubject('Not yet approved, due soon: Waiting for you');
    expect(escalations.map((m) => m.envelopeTo[0])).toEqual([h.users.admin!.email]);
    expect(escalations[0]!.parsed.text).toContain('has 1 of 2 approvals');
  });
});
