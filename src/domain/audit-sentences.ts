import { describeInZone } from './time-zone.js';

/** Every action the audit chain records: recording anything else does not compile, so each has a sentence. */
export const AUDIT_ACTIONS = [
  'campaign.create',
  'campaign.edit',
  'campaign.submit',
  'campaign.resubmit',
  'campaign.approve',
  'campaign.reject',
  'campaign.schedule',
  'campaign.quiet_hours',
  'campaign.start',
  'campaign.first_wave_sent',
  'campaign.continue',
  'campaign.sent',
  'campaign.halt',
  'campaign.cancel',
  'campaign.recall',
  'campaign.test_send',
  'correction.late_recipients',
  'deliveries.unknown',
  'approval.reminder',
  'approval.escalated',
  'approvals.void',
  'kill_switch.engage',
  'kill_switch.release',
  'list.create',
  'list.import',
  'policy.change',
  'suppressions.import',
  'suppressions.remove',
  'user.add',
  'user.roles',
  'user.roles.requested',
  'user.roles.confirmed',
  'user.roles.cancelled',
  'user.deactivate',
  'user.reactivate',
  'token.issue',
  'token.revoke',
  'retraction.request',
  'retraction.checked',
  'retraction.approve',
  'retraction.start',
  'retraction.halt',
  'retraction.finish',
] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditEventForSentence {
  action: string;
  /** Who did it, as the reader should see them: a name, an address, "Countersign" for the system. */
  who: string;
  data: Record<string, unknown>;
  /** The zone times in the sentence are given in (the organisation's). */
  timeZone: string;
}

const n = (value: unknown) => (typeof value === 'number' ? value : Number(value ?? 0)).toLocaleString('en-US');
const plural = (value: unknown, one: string, many = `${one}s`) => `${n(value)} ${Number(value) === 1 ? one : many}`;
const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));
const quoted = (value: unknown) => `“${text(value)}”`;

const list = (value: unknown) => (Array.isArray(value) && value.length ? value.map(text).join(', ') : 'none');
const STATUS_WORDS: Record<string, string> = { pending_approval: 'waiting for approval' };
const status = (value: unknown) => STATUS_WORDS[text(value)] ?? text(value);

/** Counts by outcome as a short phrase, only those above zero: "3 would remove, 1 not found". */
function outcomeCounts(value: unknown): string {
  const parts = Object.entries((value ?? {}) as Record<string, number>)
    .filter(([, count]) => Number(count) > 0)
    .map(([key, count]) => `${n(count)} ${key.replace(/_/g, ' ')}`);
  return parts.length ? parts.join(', ') : 'nothing';
}

/** A ledger's counts as a short phrase: "118 sent, 2 failed". */
function counts(value: unknown): string {
  const byStatus = (value ?? {}) as Record<string, number>;
  const words: [string, string][] = [
    ['sent', 'sent'],
    ['failed', 'failed'],
    ['unknown', 'unknown'],
    ['halted', 'stopped'],
    ['skipped', 'skipped'],
  ];
  const parts = words.filter(([key]) => Number(byStatus[key] ?? 0) > 0).map(([key, word]) => `${n(byStatus[key])} ${word}`);
  return parts.length ? parts.join(', ') : 'nothing delivered';
}

type Sentence = (who: string, d: Record<string, unknown>, time: (value: unknown) => string) => string;

const SENTENCES: Record<AuditAction, Sentence> = {
  'campaign.create': (who, d) =>
    d.kind === 'correction'
      ? `${who} created this correction of a recalled campaign.`
      : `${who} created the campaign ${quoted(d.subject)}.`,
  'campaign.edit': (who, d) => {
    const fields = Array.isArray(d.fields) && d.fields.length ? ` (${list(d.fields)})` : '';
    const back = d.previousStatus && d.previousStatus !== 'draft' ? `; it went back to draft from ${status(d.previousStatus)}` : '';
    const voided = Number(d.voidedApprovals ?? 0) > 0 ? ` and ${plural(d.voidedApprovals, 'approval was', 'approvals were')} voided` : '';
    return `${who} edited it${fields}${back}${voided}.`;
  },
  'campaign.submit': (who, d) =>
    `${who} submitted it for approval: ${plural(d.recipientCount, 'recipient')} frozen, ${plural(Array.isArray(d.approversAsked) ? d.approversAsked.length : 0, 'approver')} asked.`,
  'campaign.resubmit': (who, d) =>
    `${who} asked for approval to resume it: ${plural(d.recipientCount, 'recipient')}, ${plural(Array.isArray(d.approversAsked) ? d.approversAsked.length : 0, 'approver')} asked.`,
  'campaign.approve': (who, d) =>
    `${who} approved it${d.via === 'link' ? ' from the emailed link' : d.via === 'api' ? ' through the API' : ''}.`,
  'campaign.reject': (who, d) => `${who} rejected it${d.reason ? `: ${quoted(d.reason)}` : ''}; it went back to the author as a draft.`,
  'campaign.schedule': (_who, d, time) =>
    `It reached its approvals (${plural(Array.isArray(d.approvedBy) ? d.approvedBy.length : 0, 'approver')}) and was scheduled to send at ${time(d.scheduledFor)}.`,
  'campaign.quiet_hours': (_who, d, time) => `Its start fell in quiet hours: it waits until ${time(d.startsAt)}.`,
  'campaign.start': (_who, d) =>
    `Sending started to ${plural(d.recipientCount, 'recipient')}${d.firstWave ? `, a first wave of ${n(d.firstWave)} first` : ''}.`,
  'campaign.first_wave_sent': (_who, d, time) =>
    `The first wave went out (${counts(d.deliveries)}); the rest continues at ${time(d.continuesAt)} unless it is halted.`,
  'campaign.continue': (who, d) =>
    d.early
      ? `${who} sent the rest after the first wave without waiting for the pause to end.`
      : 'The first wave’s pause ended and the rest began to go out.',
  'campaign.sent': (_who, d) => `Sending finished: ${counts(d.deliveries)}.`,
  'campaign.halt': (who, d) =>
    `${who} halted it${d.reason ? `: ${quoted(d.reason)}` : ''}. ${plural(d.stopped, 'delivery was', 'deliveries were')} stopped; ${plural(d.inFlight, 'was', 'were')} already in flight.`,
  'campaign.cancel': (who, d) => `${who} cancelled it${d.previousStatus ? ` while it was ${status(d.previousStatus)}` : ''}.`,
  'campaign.recall': (who, d) =>
    `${who} recalled it${d.halted ? ', halting what had not gone yet,' : ''} and created a correction for everyone it reached${d.note ? `, with the note ${quoted(d.note)}` : ''}.`,
  'campaign.test_send': (who, d) => `${who} sent a test to ${text(d.to)}, as ${text(d.renderedFor)} would get it.`,
  'correction.late_recipients': (_who, d) =>
    `${plural(d.count, 'recipient', 'recipients')} of the original whose message was in flight at the recall landed and joined this correction.`,
  'deliveries.unknown': (_who, d) => {
    const they = Number(d.count) === 1 ? 'it' : 'they';
    return `${plural(d.count, 'delivery was', 'deliveries were')} marked unknown: a worker stopped during the SMTP hand-off, so ${they} may have arrived; ${they} will not be resent.`;
  },
  'approval.reminder': (_who, d) => `${text(d.approver)} had not decided and was sent a reminder with a fresh link.`,
  'approval.escalated': (_who, d, time) =>
    `The admins were told: the send time ${time(d.sendAt)} is near and it does not have its approvals.`,
  'approvals.void': (_who, d) => `An approval was voided: ${text(d.reason)}.`,
  'kill_switch.engage': (who, d) =>
    `${who} engaged the kill switch${d.reason ? `: ${quoted(d.reason)}` : ''}; everything scheduled or sending was halted.`,
  'kill_switch.release': (who) => `${who} released the kill switch.`,
  'list.create': (who, d) => `${who} created the list ${quoted(d.name)}.`,
  'list.import': (who, d) =>
    `${who} imported ${plural(d.imported, 'member')} into a list (${plural(d.mergedDuplicates, 'duplicate')} merged).`,
  'policy.change': (_who, d) => `Countersign started with a new blast-radius policy${d.file ? ` from ${text(d.file)}` : ''}.`,
  'suppressions.import': (who, d) => `${who} added ${plural(d.count, 'address', 'addresses')} to the suppression list.`,
  'suppressions.remove': (who, d) => `${who} removed ${text(d.email)} from the suppression list.`,
  'user.add': (who, d) => `${who} added ${text(d.email)} with the roles ${list(d.roles)}.`,
  'user.roles': (who, d) =>
    `${who} changed a person’s roles to ${list(d.roles)} (granted: ${list(d.granted)}; removed: ${list(d.removed)}).`,
  'user.roles.requested': (who, d) => `${who} asked to grant ${list(d.roles)}; a second admin must confirm it.`,
  'user.roles.confirmed': (who, d) =>
    `${who} confirmed the grant of ${list(d.granted)}${d.requestedBy ? ` asked for by ${text(d.requestedBy)}` : ''}.`,
  'user.roles.cancelled': (who, d) => `${who} cancelled the grant of ${list(d.roles)}.`,
  'user.deactivate': (who, d) => `${who} deactivated ${text(d.email)}: their sessions and tokens stopped working.`,
  'user.reactivate': (who, d) => `${who} reactivated ${text(d.email)}.`,
  'token.issue': (who, d) => `${who} made an API token of their own, ${quoted(d.label)}.`,
  'token.revoke': (who, d) => `${who} revoked their API token ${quoted(d.label)}.`,
  'retraction.request': (who, d) =>
    `${who} asked to take the message out of ${plural(d.items, 'mailbox', 'mailboxes')} through ${text(d.backend)}; a dry run checks them first.`,
  'retraction.checked': (_who, d) => `The retraction's dry run found: ${outcomeCounts(d.dryRun)}. It waits for its approvals.`,
  'retraction.approve': (who) => `${who} approved the retraction.`,
  'retraction.start': () => 'The retraction has its approvals and began moving the message to Trash.',
  'retraction.halt': (who, d) =>
    `${who} halted the retraction${d.reason ? `: ${quoted(d.reason)}` : ''}. ${plural(d.stopped, 'mailbox was', 'mailboxes were')} left untouched; ${plural(d.inFlight, 'was', 'were')} being worked on.`,
  'retraction.finish': (_who, d) => `The retraction finished: ${outcomeCounts(d.outcomes)}.`,
};

const isAuditAction = (action: string): action is AuditAction => (AUDIT_ACTIONS as readonly string[]).includes(action);

/** An audit event as a sentence a person reads; an action this version does not know is named as it was recorded. */
export function auditSentence(event: AuditEventForSentence): string {
  if (!isAuditAction(event.action)) return `${event.who} recorded “${event.action}”.`;
  const time = (value: unknown) =>
    typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? describeInZone(new Date(value), event.timeZone) : text(value);
  return SENTENCES[event.action](event.who, event.data ?? {}, time);
}
