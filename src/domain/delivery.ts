export const DELIVERY_STATUSES = ['queued', 'sending', 'sent', 'failed', 'halted', 'skipped', 'unknown'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** No worker will touch a delivery in these again. `unknown` is final: resending risks a duplicate. */
export const FINAL_DELIVERY_STATUSES: readonly DeliveryStatus[] = ['sent', 'failed', 'halted', 'skipped', 'unknown'];

/** Who gets a correction: everyone the original may have reached, and nobody else. */
export const CORRECTION_AUDIENCE_STATUSES: readonly DeliveryStatus[] = ['sent', 'unknown'];

export type SmtpOutcome =
  | { kind: 'sent'; response: string }
  | { kind: 'permanent'; response: string }
  | { kind: 'transient'; response: string }
  | { kind: 'ambiguous'; response: string };

interface SmtpErrorLike {
  code?: string;
  responseCode?: number;
  response?: string;
  message?: string;
  command?: string;
}

/**
 * Sorts an SMTP failure: 5xx is final, 4xx and refused connections retry,
 * and a failure after the message body went out may have delivered it.
 */
export function classifySmtpError(error: SmtpErrorLike): SmtpOutcome {
  const response = error.response ?? error.message ?? String(error);
  const code = error.responseCode;
  if (code !== undefined && code >= 500) return { kind: 'permanent', response };
  if (code !== undefined && code >= 400) return { kind: 'transient', response };
  const afterData = error.command === 'DATA' || error.command === 'DATA_END' || error.code === 'ETIMEDOUT';
  if (afterData && (error.code === 'ETIMEDOUT' || error.code === 'ECONNRESET' || error.code === 'ESOCKET')) {
    return { kind: 'ambiguous', response };
  }
  return { kind: 'transient', response };
}

/** A campaign whose permanent failures pass the configured share of its attempts halts itself. */
export function shouldAutoHalt(counts: { failed: number; attempted: number }, failureRate: number, minAttempts: number): boolean {
  return counts.attempted >= minAttempts && counts.failed / counts.attempted > failureRate;
}
