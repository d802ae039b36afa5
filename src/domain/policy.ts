import { z } from 'zod';
import { emailAddress } from './addresses.js';
import { ROLES, type FirstWaveSpec, type Role } from './inputs.js';

export type { FirstWaveSpec };
import { isTimeZone, utcToZonedLocal } from './time-zone.js';

/**
 * The organisation's blast-radius policy: rules by audience size and by list that decide how
 * much care a send needs. Read from POLICY_FILE at start; evaluated at submit, and what it
 * decided is frozen into the content hash.
 */

const clock = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time such as 20:00');

export const policySchema = z
  .object({
    /** At or above `minRecipients`, at least `required` approvers (the highest matching rule wins). */
    approvals: z
      .array(z.object({ minRecipients: z.number().int().min(1), required: z.number().int().min(1).max(20) }).strict())
      .default([]),
    /** At or above `minRecipients`, the campaign goes first to a first wave of this share or count. */
    firstWave: z
      .array(
        z
          .object({
            minRecipients: z.number().int().min(1),
            share: z.number().gt(0).lt(1).optional(),
            count: z.number().int().min(1).optional(),
          })
          .strict(),
      )
      .default([]),
    /** Lists that need more care: an admin among the approvers and a longer hold after the last approval. */
    sensitiveLists: z
      .array(
        z
          .object({ list: z.string().min(1), adminApprover: z.boolean().default(true), holdMinutes: z.number().int().min(0).default(0) })
          .strict(),
      )
      .default([]),
    /** Recipients outside the organisation's domains: `allow`, `when_marked` (the campaign says it is external), or `refuse`. */
    externalRecipients: z.enum(['allow', 'when_marked', 'refuse']).default('allow'),
    maxAudience: z.number().int().min(1).optional(),
    /** When set, the only From addresses there are, and who may send as each. */
    senders: z
      .array(
        z
          .object({
            address: emailAddress,
            name: z.string().min(1).optional(),
            users: z.array(emailAddress).default([]),
            roles: z.array(z.enum(ROLES)).default([]),
          })
          .strict(),
      )
      .optional(),
    /** When nothing starts, in the organisation's zone: a send due then waits for the window to end. */
    quietHours: z
      .object({
        timeZone: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Berlin'),
        nights: z.object({ from: clock, to: clock }).strict().optional(),
        weekends: z.boolean().default(false),
        holidays: z.array(z.iso.date()).default([]),
        /** A campaign an admin approved may start inside a quiet window. */
        adminMayApprove: z.boolean().default(false),
      })
      .strict()
      .optional(),
    /**
     * Whether a recall may also take the original out of recipients' mailboxes (off unless set,
     * and only with a mailbox backend configured). It needs its own approval, with an admin.
     */
    retraction: z.object({ allowed: z.boolean() }).strict().optional(),
  })
  .strict();
export type Policy = z.infer<typeof policySchema>;
export type QuietHours = NonNullable<Policy['quietHours']>;

/** With no policy file: no rule beyond the configured quorum. */
export const NO_POLICY: Policy = policySchema.parse({});

export interface CampaignFacts {
  /** Recipients the send would reach (skipped ones not counted). */
  recipientCount: number;
  externalCount: number;
  markedExternal: boolean;
  listNames: string[];
  fromAddress: string;
  fromName: string;
  author: { email: string; roles: readonly Role[] };
  requiredApprovals: number;
  firstWave: FirstWaveSpec | null;
}

/** What the policy decided for one campaign: frozen at submit, shown to approvers. */
export interface PolicyDecision {
  /** Each rule that applied, in words. */
  applied: string[];
  requiredApprovals: number;
  adminApprover: boolean;
  holdMinutes: number;
  firstWave: FirstWaveSpec | null;
  quietHours: QuietHours | null;
}

export interface PolicyRefusal {
  field: string;
  message: string;
}

export function evaluatePolicy(policy: Policy, facts: CampaignFacts): { decision: PolicyDecision; refusals: PolicyRefusal[] } {
  const applied: string[] = [];
  const refusals: PolicyRefusal[] = [];
  const n = facts.recipientCount;

  let requiredApprovals = facts.requiredApprovals;
  const sizeRule = policy.approvals.filter((r) => n >= r.minRecipients).sort((a, b) => b.required - a.required)[0];
  if (sizeRule && sizeRule.required > requiredApprovals) {
    requiredApprovals = sizeRule.required;
    applied.push(
      `${n.toLocaleString('en-US')} recipients (${sizeRule.minRecipients.toLocaleString('en-US')} or more) need ${sizeRule.required} approvers`,
    );
  }

  let adminApprover = false;
  let holdMinutes = 0;
  for (const rule of policy.sensitiveLists.filter((r) => facts.listNames.includes(r.list))) {
    adminApprover ||= rule.adminApprover;
    holdMinutes = Math.max(holdMinutes, rule.holdMinutes);
    const needs = [
      rule.adminApprover ? 'an admin among the approvers' : '',
      rule.holdMinutes ? `a hold of ${rule.holdMinutes} minutes` : '',
    ].filter(Boolean);
    applied.push(`the list "${rule.list}" is sensitive${needs.length ? `: it needs ${needs.join(' and ')}` : ''}`);
  }

  let firstWave = facts.firstWave;
  const waveRule = policy.firstWave.filter((r) => n >= r.minRecipients).sort((a, b) => b.minRecipients - a.minRecipients)[0];
  if (waveRule && !firstWave) {
    firstWave = { share: waveRule.share, count: waveRule.count, seedListIds: [] };
    if (firstWave.share === undefined && firstWave.count === undefined) firstWave.share = 0.05;
    applied.push(`${waveRule.minRecipients.toLocaleString('en-US')} or more recipients must go first to a first wave`);
  }

  if (facts.externalCount > 0) {
    const allowed = policy.externalRecipients === 'allow' || (policy.externalRecipients === 'when_marked' && facts.markedExternal);
    if (!allowed) {
      refusals.push({
        field: 'audience',
        message:
          policy.externalRecipients === 'when_marked'
            ? `${facts.externalCount} recipient(s) are outside the organisation: mark the campaign external to send to them`
            : `${facts.externalCount} recipient(s) are outside the organisation, and the policy refuses external recipients`,
      });
    } else if (policy.externalRecipients === 'when_marked') {
      applied.push(`marked external: ${facts.externalCount} recipient(s) outside the organisation`);
    }
  }

  if (policy.maxAudience !== undefined && n > policy.maxAudience) {
    refusals.push({ field: 'audience', message: `${n} recipients is more than the policy allows (${policy.maxAudience})` });
  }

  if (policy.senders) {
    const sender = policy.senders.find((s) => s.address === facts.fromAddress.toLowerCase());
    if (!sender) {
      refusals.push({ field: 'fromAddress', message: `${facts.fromAddress} is not one of the sender addresses the policy names` });
    } else if (!mayUseSender(sender, facts.author)) {
      refusals.push({ field: 'fromAddress', message: `${facts.author.email} may not send as ${facts.fromAddress}` });
    } else if (sender.name && sender.name !== facts.fromName) {
      refusals.push({ field: 'fromName', message: `${facts.fromAddress} sends as "${sender.name}", not "${facts.fromName}"` });
    }
  }

  const quietHours = policy.quietHours ?? null;
  if (quietHours) applied.push(`quiet hours (${describeQuietHours(quietHours)}): nothing starts inside them`);

  return { decision: { applied, requiredApprovals, adminApprover, holdMinutes, firstWave, quietHours }, refusals };
}

function mayUseSender(sender: NonNullable<Policy['senders']>[number], author: CampaignFacts['author']): boolean {
  const open = sender.users.length === 0 && sender.roles.length === 0;
  return open || sender.users.includes(author.email) || sender.roles.some((role) => author.roles.includes(role));
}

export function describeQuietHours(quiet: QuietHours): string {
  const parts = [
    quiet.nights ? `${quiet.nights.from}–${quiet.nights.to}` : '',
    quiet.weekends ? 'weekends' : '',
    quiet.holidays.length ? `${quiet.holidays.length} holiday(s)` : '',
  ];
  return `${parts.filter(Boolean).join(', ') || 'none'}, ${quiet.timeZone}`;
}

function inQuietHours(quiet: QuietHours, at: Date): boolean {
  const local = utcToZonedLocal(at, quiet.timeZone);
  const [date, time] = [local.slice(0, 10), local.slice(11, 16)];
  if (quiet.holidays.includes(date)) return true;
  const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
  if (quiet.weekends && (weekday === 0 || weekday === 6)) return true;
  if (!quiet.nights) return false;
  const { from, to } = quiet.nights;
  return from <= to ? time >= from && time < to : time >= from || time < to;
}

const MINUTE = 60_000;

/** When a send due at `at` may start: `at` itself, or the first minute after the quiet window it falls in. */
export function quietHoursEnd(quiet: QuietHours | null, at: Date): Date | null {
  if (!quiet || !inQuietHours(quiet, at)) return null;
  let next = Math.ceil(at.getTime() / MINUTE) * MINUTE;
  // A window is at most a long weekend plus holidays: look a few weeks ahead at most.
  for (let steps = 0; steps < 60 * 24 * 31 && inQuietHours(quiet, new Date(next)); steps++) next += MINUTE;
  return new Date(next);
}
