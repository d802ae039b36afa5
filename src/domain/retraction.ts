import type { Role } from './inputs.js';

/**
 * Retraction: the optional part of a recall that takes the original out of its recipients'
 * mailboxes. Rules only; the mailbox work is in src/mail/mailbox.ts and src/services/retraction.ts.
 */

export const RETRACTION_STATUSES = ['checking', 'pending_approval', 'running', 'halted', 'done'] as const;
export type RetractionStatus = (typeof RETRACTION_STATUSES)[number];

/** What a mailbox backend found for one recipient's message. */
export const MAILBOX_FINDINGS = ['found', 'not_found', 'already_deleted'] as const;
export type MailboxFinding = (typeof MAILBOX_FINDINGS)[number];

/** A recipient's row in the retraction's ledger: `pending`, `working` (a worker holds it), then final. */
export const RETRACTION_ITEM_STATUSES = [
  'pending',
  'working',
  'removed',
  'not_found',
  'already_deleted',
  'failed',
  'not_retractable',
  'halted',
] as const;
export type RetractionItemStatus = (typeof RETRACTION_ITEM_STATUSES)[number];
/** Every status but the two a row passes through on its way. */
export const FINAL_ITEM_STATUSES: readonly RetractionItemStatus[] = RETRACTION_ITEM_STATUSES.filter(
  (status) => status !== 'pending' && status !== 'working',
);

/** What the dry run says would happen to each recipient's message. */
export const DRY_RUN_OUTCOMES = ['would_remove', 'not_found', 'already_deleted', 'failed', 'not_retractable'] as const;
export type DryRunOutcome = (typeof DRY_RUN_OUTCOMES)[number];

export type Counts<K extends string> = Record<K, number>;

export function countOf<K extends string>(keys: readonly K[], rows: { key: string; n: number | string | bigint }[]): Counts<K> {
  const counts = Object.fromEntries(keys.map((k) => [k, 0])) as Counts<K>;
  for (const row of rows) if ((keys as readonly string[]).includes(row.key)) counts[row.key as K] = Number(row.n);
  return counts;
}

/**
 * Whether a backend serves this recipient: the domain after the last `@`, exactly one of the
 * configured ones. A subdomain is a different mail system until configured: never guessed.
 */
export function servesAddress(domains: readonly string[], email: string): boolean {
  const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
  return domains.includes(domain);
}

export function dryRunOutcome(finding: MailboxFinding): DryRunOutcome {
  return finding === 'found' ? 'would_remove' : finding;
}

/**
 * The outcome of a real run. After an interrupted attempt (its worker died mid-move, or the
 * connection dropped before the server answered), a message found only in Trash was moved there
 * by that attempt, as far as anyone can tell: it is reported removed, saying so, not as deleted
 * by its owner.
 */
export function itemOutcome(finding: MailboxFinding, resumed: boolean): { status: RetractionItemStatus; note: string } {
  if (finding === 'found') return { status: 'removed', note: '' };
  if (finding === 'already_deleted' && resumed) return { status: 'removed', note: 'found in Trash after an interrupted attempt' };
  return { status: finding, note: '' };
}

export interface RetractionApproval {
  approverId: string;
  roles: readonly Role[];
}

/**
 * A retraction touches people's mailboxes, so it needs more than its correction: the
 * correction's number of approvers, plus an admin. Each person counts once, either as an
 * approver or as the admin, and the person who asked for it never counts.
 */
export function retractionQuorum(
  required: number,
  approvals: readonly RetractionApproval[],
  requesterId: string,
): { met: boolean; approvers: number; admin: boolean; missing: string[] } {
  const counted = approvals.filter(
    (a, i) => a.approverId !== requesterId && approvals.findIndex((b) => b.approverId === a.approverId) === i,
  );
  // The admin seat goes to an admin who is not also an approver when there is one, so approvers fill the rest.
  const admin =
    counted.find((a) => a.roles.includes('admin') && !a.roles.includes('approver')) ?? counted.find((a) => a.roles.includes('admin'));
  const approvers = counted.filter((a) => a !== admin && a.roles.includes('approver')).length;
  const missing = [
    approvers < required ? `${required - approvers} more approver${required - approvers === 1 ? '' : 's'}` : '',
    admin ? '' : 'an admin',
  ].filter(Boolean);
  return { met: missing.length === 0, approvers, admin: Boolean(admin), missing };
}
