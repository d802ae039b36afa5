import type { HaltReport } from '../domain/api-shapes.js';
import type { Transaction } from 'kysely';
import type { CampaignStatus } from '../domain/campaign-state.js';
import { voidDecisions } from '../db/approvals.js';
import { campaignsInStatus, findCampaign, lockCampaignForHalt, lockCampaignShared, updateCampaignIf } from '../db/campaigns.js';
import { countHaltable, markQueuedHalted, seededThrough, seedLedger } from '../db/deliveries.js';
import type { CampaignRow, DB } from '../db/schema.js';
import { killSwitchState, setKillSwitch } from '../db/system-state.js';
import { recordEvent } from './audit.js';
import { requireRole, SYSTEM_ACTOR, type Actor, type AppContext } from './context.js';
import { tellHalted } from './campaign-notices.js';
import { cancelStartJob, queueHaltClearing, scheduleStart } from './dispatch.js';
import { forbidden, notFound } from './errors.js';
import { haltDuration } from './metrics.js';
import { haltAllRetractionsWithin } from './retraction.js';
import { transition } from './transition.js';

export type { HaltReport } from '../domain/api-shapes.js';

/**
 * When this commits the campaign is `halted` and no worker can claim another row of it:
 * claims lock the campaign row and re-check its status (see claimDeliveries), so the rows
 * claimed before are exactly the in-flight count. Unclaimed rows count as halted from then
 * on; `clearHaltedRows` rewrites them afterwards, so the halt's time does not grow with the
 * audience. Approvals are voided: only a fresh quorum resumes it.
 */
export async function haltWithin(
  trx: Transaction<DB>,
  campaign: CampaignRow,
  actor: string,
  reason: string,
  now: Date,
): Promise<HaltReport> {
  await updateCampaignIf(trx, campaign.id, [campaign.status], {
    status: transition(campaign.status, 'halt'),
    halted_at: now,
    halt_reason: reason,
  });
  await voidDecisions(trx, campaign.id, 'halted');
  const { stopped, inFlight } = await countHaltable(trx, campaign.id, campaign.recipient_count ?? 0);
  await recordEvent(trx, {
    actor,
    action: 'campaign.halt',
    campaignId: campaign.id,
    data: { reason, inFlight, stopped, previousStatus: campaign.status },
    at: now,
  });
  return { campaignId: campaign.id, status: 'halted', inFlight, stopped };
}

export function mayHalt(actor: Actor, campaign: CampaignRow): boolean {
  return campaign.author_id === actor.id || actor.roles.includes('approver') || actor.roles.includes('admin');
}

export async function haltCampaign(ctx: AppContext, actor: Actor, campaignId: string, reason = 'halted by hand'): Promise<HaltReport> {
  const now = ctx.now();
  const stopTimer = haltDuration.startTimer();
  const { report, campaign } = await ctx.db.transaction().execute(async (trx) => {
    const campaign = await lockCampaignForHalt(trx, campaignId);
    if (!campaign) throw notFound('campaign');
    if (!mayHalt(actor, campaign)) throw forbidden('only the campaign author, an approver or an admin may halt it');
    return { report: await haltWithin(trx, campaign, actor.email, reason, now), campaign };
  });
  stopTimer();
  if (campaign.status === 'scheduled') await cancelStartJob(ctx, campaign.id, campaign.content_hash!);
  await queueHaltClearing(ctx, campaignId);
  await tellHalted(ctx, campaign, actor.email, reason, report);
  return report;
}

const CLEAR_HALT_BATCH = 1000;

/**
 * Rewrites a halted campaign's unclaimed rows as `halted` and adds the snapshot recipients
 * the fan-out had not copied yet as `halted`, so the ledger accounts for everyone. Batches
 * let other work interleave (PGlite has one connection); each stops once the campaign is
 * no longer halted. A stopping process throws between batches: the rest is taken up again
 * (the job's retry, or the sweep), since each batch only rewrites what is still queued.
 */
export async function clearHaltedRows(ctx: AppContext, campaignId: string, stopping?: AbortSignal): Promise<void> {
  let rewritten: number;
  do {
    stopping?.throwIfAborted();
    rewritten = await markQueuedHalted(ctx.db, campaignId, CLEAR_HALT_BATCH);
  } while (rewritten >= CLEAR_HALT_BATCH);
  const campaign = await findCampaign(ctx.db, campaignId);
  const total = campaign?.recipient_count ?? 0;
  for (let fromSeq = (await seededThrough(ctx.db, campaignId, total)) + 1; fromSeq <= total; fromSeq += CLEAR_HALT_BATCH) {
    stopping?.throwIfAborted();
    const copied = await ctx.db.transaction().execute(async (trx) => {
      if ((await lockCampaignShared(trx, campaignId))?.status !== 'halted') return false;
      await seedLedger(trx, campaignId, fromSeq, Math.min(total, fromSeq + CLEAR_HALT_BATCH - 1), 'halted');
      return true;
    });
    if (!copied) return;
  }
}

/**
 * Countersign's own halt (too many permanent failures, approvals that no longer hold, a
 * renderer other than the one approved), from the given statuses only; tells the people responsible.
 */
export async function autoHalt(
  ctx: AppContext,
  campaignId: string,
  reason: string,
  from: readonly CampaignStatus[] = ['sending'],
): Promise<HaltReport | null> {
  const now = ctx.now();
  const halted = await ctx.db.transaction().execute(async (trx) => {
    const campaign = await lockCampaignForHalt(trx, campaignId);
    if (!campaign || !from.includes(campaign.status)) return null;
    return { report: await haltWithin(trx, campaign, SYSTEM_ACTOR, reason, now), campaign };
  });
  if (!halted) return null;
  if (halted.campaign.status === 'scheduled') await cancelStartJob(ctx, campaignId, halted.campaign.content_hash!);
  await queueHaltClearing(ctx, campaignId);
  await tellHalted(ctx, halted.campaign, SYSTEM_ACTOR, reason, halted.report);
  return halted.report;
}

/** The global kill switch: halts everything scheduled or sending, and keeps anything from sending until resumed. */
export async function haltAll(
  ctx: AppContext,
  actor: Actor,
  reason = 'global kill switch',
): Promise<{ engaged: true; campaigns: HaltReport[] }> {
  requireRole(actor, 'approver', 'admin');
  const now = ctx.now();
  const { reports, scheduled } = await ctx.db.transaction().execute(async (trx) => {
    // Engaged first: from this commit on, claims refuse every campaign, even ones halted below.
    await setKillSwitch(trx, true, actor.email, now);
    await recordEvent(trx, { actor: actor.email, action: 'kill_switch.engage', campaignId: null, data: { reason }, at: now });
    await haltAllRetractionsWithin(trx, actor.email, reason, now);
    const active = await campaignsInStatus(trx, ['scheduled', 'sending']);
    const reports: HaltReport[] = [];
    for (const campaign of active) {
      const locked = await lockCampaignForHalt(trx, campaign.id);
      if (locked && (locked.status === 'scheduled' || locked.status === 'sending'))
        reports.push(await haltWithin(trx, locked, actor.email, reason, now));
    }
    return { reports, scheduled: active.filter((c) => c.status === 'scheduled') };
  });
  for (const campaign of scheduled) await cancelStartJob(ctx, campaign.id, campaign.content_hash!);
  for (const report of reports) await queueHaltClearing(ctx, report.campaignId);
  return { engaged: true, campaigns: reports };
}

export async function resumeAll(ctx: AppContext, actor: Actor): Promise<{ engaged: false }> {
  requireRole(actor, 'admin');
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    await setKillSwitch(trx, false, actor.email, now);
    await recordEvent(trx, { actor: actor.email, action: 'kill_switch.release', campaignId: null, at: now });
  });
  // Campaigns approved while the switch was engaged waited; their start jobs go back on the queue.
  for (const campaign of await campaignsInStatus(ctx.db, ['scheduled'])) await scheduleStart(ctx, campaign);
  return { engaged: false };
}

export function killSwitch(ctx: AppContext) {
  return killSwitchState(ctx.db);
}
