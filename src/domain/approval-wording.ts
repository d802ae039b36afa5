import type { CampaignStatus } from './campaign-state.js';

/** Why an approval stopped counting, recorded when it is voided. */
export const VOID_REASONS = ['edited', 'resubmitted', 'halted', 'approver_removed'] as const;
export type VoidReason = (typeof VOID_REASONS)[number];

const VOID_WORDS: Record<VoidReason, string> = {
  edited: 'voided: the campaign was edited after it',
  resubmitted: 'voided: the campaign was submitted again',
  halted: 'voided by the halt: only a fresh approval resumes it',
  approver_removed: 'voided: the approver was deactivated or lost the approver role',
};

/** The note beside a voided decision; decisions voided before reasons were recorded just say so. */
export function voidedBecause(reason: string | null): string {
  return reason && Object.hasOwn(VOID_WORDS, reason) ? VOID_WORDS[reason as VoidReason] : 'voided';
}

/** What an approver is told after deciding: approved only once the quorum is reached, not after the first of two. */
export function decisionOutcome(outcome: {
  decision: 'approve' | 'reject';
  status: CampaignStatus;
  approved: number;
  required: number;
}): string {
  if (outcome.decision === 'reject') return 'rejected; the author has it back as a draft';
  if (outcome.status === 'pending_approval') {
    const missing = Math.max(1, outcome.required - outcome.approved);
    return `not approved yet: your approval is ${outcome.approved} of the ${outcome.required} needed, so it waits for ${missing} more`;
  }
  if (outcome.status === 'scheduled') return 'approved and scheduled: it sends at the time on its page, and can still be halted until then';
  if (outcome.status === 'sending' || outcome.status === 'sent') return `approved and ${outcome.status}`;
  return `now ${outcome.status.replace('_', ' ')}`;
}
