import type { CampaignStatus } from './campaign-state.js';

export type CorrectionSubjectStyle = 'reply' | 'sent_in_error';

/**
 * `Re: <subject>` threads in Gmail (which needs the same subject) and Outlook (which strips
 * only short prefixes); `Sent in error: <subject>` reads plainer but starts a new thread.
 */
export function correctionSubject(originalSubject: string, style: CorrectionSubjectStyle): string {
  const base = originalSubject.replace(/^(re:\s*)+/i, '');
  return style === 'reply' ? `Re: ${base}` : `Sent in error: ${base}`;
}

/** An original in these may have reached someone, so a recall (halt what is left, then correct) applies. */
const RECALLABLE_STATUSES: readonly CampaignStatus[] = ['sending', 'sent', 'halted'];

export function mayBeRecalled(status: CampaignStatus): boolean {
  return RECALLABLE_STATUSES.includes(status);
}
