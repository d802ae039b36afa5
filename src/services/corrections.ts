import type { Transaction } from 'kysely';
import { CORRECTION_AUDIENCE_STATUSES } from '../domain/delivery.js';
import { lockCampaign, openCorrectionOf } from '../db/campaigns.js';
import { joinLateRecipients } from '../db/deliveries.js';
import type { CampaignRow, DB } from '../db/schema.js';
import { recordEvent } from './audit.js';
import { SYSTEM_ACTOR, type AppContext } from './context.js';
import { queueLateWindow } from './dispatch.js';

export type LateWindow = { fromSeq: number; toSeq: number };

/**
 * Automated follow-through: a delivery of the original that completed after the correction
 * was frozen (in flight at the halt, or found `unknown` later) gets the correction too,
 * once the correction is approved and sending.
 */
export async function followThrough(ctx: AppContext, originalId: string): Promise<number> {
  const correction = await openCorrectionOf(ctx.db, originalId);
  if (!correction || correction.status !== 'sending') return 0;
  const window = await ctx.db.transaction().execute(async (trx) => {
    const locked = await lockCampaign(trx, correction.id);
    return locked?.status === 'sending' ? joinLateWithin(ctx, trx, locked) : null;
  });
  if (window) await queueLateWindow(ctx, correction, window);
  return window ? window.toSeq - window.fromSeq + 1 : 0;
}

/** Under the correction's row lock: adds the late recipients to its ledger and audits it. */
export async function joinLateWithin(ctx: AppContext, trx: Transaction<DB>, correction: CampaignRow): Promise<LateWindow | null> {
  const joined = await joinLateRecipients(trx, correction.id, correction.original_campaign_id!, CORRECTION_AUDIENCE_STATUSES);
  if (joined) {
    await recordEvent(trx, {
      actor: SYSTEM_ACTOR,
      action: 'correction.late_recipients',
      campaignId: correction.id,
      data: { count: joined.toSeq - joined.fromSeq + 1 },
      at: ctx.now(),
    });
  }
  return joined;
}
