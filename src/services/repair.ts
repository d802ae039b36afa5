import { campaignsInStatus } from '../db/campaigns.js';
import { haltedNeedingClearing, markStaleSendingUnknown } from '../db/deliveries.js';
import { recordEvent } from './audit.js';
import { SYSTEM_ACTOR, type AppContext } from './context.js';
import { followThrough } from './corrections.js';
import { deliveryQueueIdle, ensureStartJob } from './dispatch.js';
import { clearHaltedRows } from './halt.js';
import { fanOut, finishIfComplete } from './sending.js';

/**
 * Periodic repair, from the database as the record: stale `sending` rows become `unknown`; a
 * scheduled campaign whose start job Redis lost gets it back; a sending campaign whose windows
 * stalled is re-fed; a halted campaign whose clean-up was lost gets its ledger completed.
 */
export async function sweep(ctx: AppContext): Promise<{ markedUnknown: number; restarted: number }> {
  const stale = await markStaleSendingUnknown(ctx.db, ctx.config.STALE_SENDING_SECONDS);
  let restarted = 0;
  for (const campaign of await campaignsInStatus(ctx.db, ['scheduled', 'sending'])) {
    if (campaign.status === 'scheduled') {
      if (await ensureStartJob(ctx, campaign)) restarted += 1;
      continue;
    }
    if (campaign.original_campaign_id) await followThrough(ctx, campaign.original_campaign_id);
    if (await finishIfComplete(ctx, campaign.id)) continue;
    if (await deliveryQueueIdle(ctx)) {
      await fanOut(ctx, { campaignId: campaign.id, contentHash: campaign.content_hash! });
      restarted += 1;
    }
  }
  for (const campaignId of await haltedNeedingClearing(ctx.db)) await clearHaltedRows(ctx, campaignId);
  for (const { campaign_id, n } of stale) {
    await ctx.db.transaction().execute((trx) =>
      recordEvent(trx, { actor: SYSTEM_ACTOR, action: 'deliveries.unknown', campaignId: campaign_id, data: { count: n }, at: ctx.now() }),
    );
  }
  return { markedUnknown: stale.reduce((sum, s) => sum + Number(s.n), 0), restarted };
}
