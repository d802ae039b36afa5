import type { CampaignStatus } from './campaign-state.js';

export const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'failed', 'halted', 'skipped', 'unknown'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** No worker will touch a delivery in these again. `unknown` is final: resending risks a duplicate. */
export const FINAL_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'halted', 'skipped', 'unknown'];

export type DeliveryCounts = Record<DeliveryStatus, number>;

export function noDeliveries(): DeliveryCounts {
  return { queued: 0, sending: 0, sent: 0, failed: 0, halted: 0, skipped: 0, unknown: 0 };
}

/** Who gets a correction: everyone the original may have reached, and nobody else. */
export const CORRECTION_AUDIENCE_STATUSES: readonly DeliveryStatus[] = ['sent', 'unknown'];

/**
 * Claims re-check that the campaign is sending, so a `queued` row of a campaign that is not
 * can never go out: it counts as halted, also in the moment before a halt's clean-up has
 * rewritten it.
 */
export function countsAsLedgerSays(counts: Record<DeliveryStatus, number>, campaignStatus: CampaignStatus): Record<DeliveryStatus, number> {
  if (campaignStatus === 'sending' || counts.queued === 0) return counts;
  return { ...counts, queued: 0, halted: counts.halted + counts.queued };
}

export type SmtpOutcome =
  | { kind: 'sent'; response: string }
  | { kind: 'permanent'; response: string }
  | { kind: 'transient'; response: string }
  | { kind: 'ambiguous'; response: string };

interface SmtpErrorLike {
  code?: string;
  originalCode?: string;
  timeoutType?: string;
  responseCode?: number;
  response?: string;
  command?: string;
  message?: string;
  /** How far the connection had read the body when it failed (the mailer tracks it; see BodyTracker). */
  bodyStage?: 'not_started' | 'partial' | 'complete';
}

// nodemailer reports every dropped or timed-out connection with command 'CONN', whatever
// stage it came at (a drop inside the body and one after the final dot raise the same
// error); only these codes and timeouts say for certain that no message had gone out yet.
const BEFORE_THE_MESSAGE = new Set([
  'EDNS',
  'ETLS',
  'EAUTH',
  'EENVELOPE',
  'EMESSAGE',
  'EREQUIRETLS',
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);
const SETUP_TIMEOUTS = new Set(['CONNECT_TIMEOUT', 'GREETING_TIMEOUT', 'UPGRADE_TIMEOUT']);
const CONNECTION_LOST = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'EPROTOCOL']);

/**
 * Sorts an SMTP failure: 5xx is final; 4xx and anything before the final dot was sent retry;
 * only a connection lost after the whole message went out may have delivered it, so that one
 * is `unknown` and never resent.
 */
export function classifySmtpError(error: SmtpErrorLike): SmtpOutcome {
  const response = error.response ?? error.message ?? String(error);
  const code = error.responseCode;
  if (code !== undefined && code >= 500) return { kind: 'permanent', response };
  if (code !== undefined && code >= 400) return { kind: 'transient', response };
  // The server can accept a message only after its final dot, which follows the whole body.
  if (error.bodyStage === 'not_started' || error.bodyStage === 'partial') return { kind: 'transient', response };
  if (error.bodyStage === 'complete') return { kind: 'ambiguous', response };
  if (error.timeoutType && SETUP_TIMEOUTS.has(error.timeoutType)) return { kind: 'transient', response };
  if (BEFORE_THE_MESSAGE.has(error.code ?? '') || BEFORE_THE_MESSAGE.has(error.originalCode ?? '')) return { kind: 'transient', response };
  if (raisedByThePoolUnsent(error)) return { kind: 'transient', response };
  if (CONNECTION_LOST.has(error.code ?? '')) return { kind: 'ambiguous', response };
  return { kind: 'transient', response };
}

/**
 * nodemailer's pool raises ECONNECTION without a command only for a message no connection
 * sent: "Reached maximum number of retries after connection was closed" (each connection it
 * tried closed before taking the message, e.g. before its greeting) and "Connection pool was
 * closed". A close with `force` would fail a delivery under way the same way; the mailer
 * never forces one.
 */
function raisedByThePoolUnsent(error: SmtpErrorLike): boolean {
  return error.code === 'ECONNECTION' && error.command === undefined;
}

/** A campaign whose permanent failures pass the configured share of its attempts halts itself. */
export function shouldAutoHalt(counts: { failed: number; attempted: number }, failureRate: number, minAttempts: number): boolean {
  return counts.attempted >= minAttempts && counts.failed / counts.attempted > failureRate;
}

/**
 * How many attempts must be counted to decide `shouldAutoHalt` for `failed` failures: with at
 * least this many the share is at or under the rate whatever the rest, so attempts beyond it
 * need not be counted (the check runs after every failing round; a full count of a million-row
 * ledger took 300 ms).
 */
export function attemptsWorthCounting(failed: number, failureRate: number, minAttempts: number): number {
  return Math.max(minAttempts, Math.floor(failed / failureRate) + 1);
}
