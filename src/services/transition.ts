import { IllegalTransitionError, nextStatus, type CampaignAction, type CampaignStatus } from '../domain/campaign-state.js';
import { conflict } from './errors.js';

/** The state machine's answer, or a 409 the caller can show when the action is not allowed from here. */
export function transition(from: CampaignStatus, action: CampaignAction): CampaignStatus {
  try {
    return nextStatus(from, action);
  } catch (error) {
    if (error instanceof IllegalTransitionError) throw conflict('illegal_transition', error.message);
    throw error;
  }
}
