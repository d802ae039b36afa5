import { campaignsInStatus } from '../db/campaigns.js';
import { haltedNeedingClearing, markStaleSendingUnknown, seededThrough, unheldWindowStarts } from '../db/deliveries.js';
import { dropAbandonedImports } from '../db/lists.js';
import type { CampaignRow } from '../db/schema.js';
import { recordEvent } from './audit.js';
import { SYSTEM_ACTOR, type AppContext } from './context.js';
import { followThrough } from './corrections.js';
import { ensureStartJob, queueWindowsOf } from './dispatch.js';
import { clearHaltedRows } from './halt.js';
import { continueIfDue } from './first-wave.js';
import { escalateUnapproved, remindApprovers } from './reminders.js';
import { repairRetractions } from './retraction.js';
import { fanOut, fanOutRange, finishIfComplete, RESERVATION_SECONDS } from './sending.js';

/**
 * Puts back what a sending campaign lacks, each campaign on its own: the rest of an interrupted
 * fan-out, and a job for every window with rows that no live job holds. A window whose job is
 * still queued or running keeps it (the job id is the same, so BullMQ adds nothing).
 */
async function refeed(ctx: AppContext, campaign: CampaignRow): Promise<number> {
  const job = { campaignId: campaign.id, contentHash: campaign.content_hash! };
  if (await continueIfDue(ctx, campaign.id)) return 1;
  const range = fanOutRange(campaign);
  if ((await seededThrough(ctx.db, campaign.id, range.toSeq)) < range.toSeq) {
    await fanOut(ctx, job, range);
    return 1;
  }
  const size = ctx.config.DELIVERY_BATCH_SIZE;
  const starts = await unheldWindowStarts(ctx.db, campaign.id, size, RESERVATION_SECONDS);
  await queueWindowsOf(
    ctx,
    campaign,
    job.contentHash,
    starts.map((fromSeq) => ({ fromSeq, toSeq: fromSeq + size - 1 })),
  );
  return starts.length;
}

/** An import's staged rows older than this belong to a process that died while reading it. */
const ABANDONED_IMPORT_SECONDS = 24 * 60 * 60;

/**
 * Periodic repair, from the database as the record: stale `sending` rows become `unknown`; a
 * scheduled campaign whose start job Redis lost gets it back; a sending campaign is re-fed where
 * it lacks a job; a halted campaign whose clean-up was lost gets its ledger completed; approvers
 * who have not decided are reminded, and admins told of a send time near without a quorum; a
 * retraction checking or running whose job was lost gets it back; rows staged by an import whose
 * process died are dropped.
 */
export async function sweep(ctx: AppContext, stopping?: AbortSignal): Promise<{ markedUnknown: number; restarted: number }> {
  const stale = await markStaleSendingUnknown(ctx.db, ctx.config.STALE_SENDING_SECONDS);
  // Recorded at once: the rest of the sweep may be cut short by the process stopping.
  for (const { campaign_id, n } of stale) {
    await ctx.db
      .transaction()
      .execute((trx) =>
        recordEvent(trx, { actor: SYSTEM_ACTOR, action: 'deliveries.unknown', campaignId: campaign_id, data: { count: n }, at: ctx.now() }),
      );
  }
  let restarted = 0;
  for (const campaign of await campaignsInStatus(ctx.db, ['scheduled', 'sending'])) {
    if (campaign.status === 'scheduled') {
      if (await ensureStartJob(ctx, campaign)) restarted += 1;
      continue;
    }
    if (campaign.original_campaign_id) await followThrough(ctx, campaign.original_campaign_id);
    if (await finishIfComplete(ctx, campaign.id)) continue;
    restarted += await refeed(ctx, campaign);
  }
  for (const campaignId of await haltedNeedingClearing(ctx.db)) await clearHaltedRows(ctx, campaignId, stopping);
  restarted += await repairRetractions(ctx);
  await dropAbandonedImports(ctx.db, ABANDONED_IMPORT_SECONDS);
  await remindApprovers(ctx);
  await escalateUnapproved(ctx);
  return { markedUnknown: stale.reduce((sum, s) => sum + Number(s.n), 0), restarted };
}
