export const CAMPAIGN_STATUSES = ['draft', 'pending_approval', 'scheduled', 'sending', 'sent', 'halted', 'cancelled'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export type CampaignAction = 'edit' | 'submit' | 'reject' | 'reach_quorum' | 'cancel' | 'start' | 'finish' | 'halt';

/** The whole life of a campaign: anything not listed here is refused. */
const TRANSITIONS: Record<CampaignAction, Partial<Record<CampaignStatus, CampaignStatus>>> = {
  // Editing anything submitted sends it back to draft; approvals bound to the old hash no longer count.
  edit: { draft: 'draft', pending_approval: 'draft', scheduled: 'draft' },
  // A halted campaign resumes only through a fresh submission and quorum.
  submit: { draft: 'pending_approval', halted: 'pending_approval' },
  reject: { pending_approval: 'draft' },
  reach_quorum: { pending_approval: 'scheduled' },
  cancel: { draft: 'cancelled', pending_approval: 'cancelled', scheduled: 'cancelled' },
  start: { scheduled: 'sending' },
  finish: { sending: 'sent' },
  halt: { scheduled: 'halted', sending: 'halted' },
};

export class IllegalTransitionError extends Error {
  constructor(
    readonly from: CampaignStatus,
    readonly action: CampaignAction,
  ) {
    super(`cannot ${action.replace('_', ' ')} a campaign that is ${from.replace('_', ' ')}`);
  }
}

export function nextStatus(from: CampaignStatus, action: CampaignAction): CampaignStatus {
  const to = TRANSITIONS[action][from];
  if (!to) throw new IllegalTransitionError(from, action);
  return to;
}

export function canTransition(from: CampaignStatus, action: CampaignAction): boolean {
  return TRANSITIONS[action][from] !== undefined;
}

/** The statuses an action may start from, for conditional updates (`WHERE status IN (...)`). */
export function statusesAllowing(action: CampaignAction): CampaignStatus[] {
  return Object.keys(TRANSITIONS[action]) as CampaignStatus[];
}
