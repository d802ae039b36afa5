import { findCampaign, lockCampaign, updateCampaignIf } from '../db/campaigns.js';
import { recordEvent } from './audit.js';
import { requireRole, SYSTEM_ACTOR, type Actor, type AppContext } from './context.js';
import { queueContinue } from './dispatch.js';
import { conflict, notFound } from './errors.js';
import { fanOut } from './sending.js';

/**
 * After its first wave a campaign pauses for FIRST_WAVE_HOLD_MINUTES: anyone who sees a mistake
 * in the wave can halt it while it is small. It then continues by itself, or earlier when an
 * approver presses "continue now". A halt during the pause stops everything after the wave.
 */
export async function continueCampaign(
  ctx: AppContext,
  campaignId: string,
  by: Actor | null = null,
): Promise<'continued' | 'not_yet' | 'nothing'> {
  if (by) requireRole(by, 'approver', 'admin');
  const now = ctx.now();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const campaign = await lockCampaign(trx, campaignId);
    if (!campaign) throw notFound('campaign');
    if (campaign.status !== 'sending' || campaign.wave_stage !== 'paused') {
      if (by) throw conflict('illegal_transition', 'only a campaign paused after its first wave can continue');
      return { result: 'nothing' } as const;
    }
    if (!by && campaign.wave_paused_until && campaign.wave_paused_until > now)
      return { result: 'not_yet', until: campaign.wave_paused_until } as const;
    await updateCampaignIf(trx, campaignId, ['sending'], { wave_stage: 'rest', wave_paused_until: null });
    await recordEvent(trx, {
      actor: by?.email ?? SYSTEM_ACTOR,
      action: 'campaign.continue',
      campaignId,
      data: { early: by !== null },
      at: now,
    });
    return { result: 'continued', campaign } as const;
  });
  if (outcome.result === 'not_yet') await queueContinue(ctx, campaignId, outcome.until);
  if (outcome.result !== 'continued') return outcome.result;
  const { campaign } = outcome;
  await fanOut(
    ctx,
    { campaignId, contentHash: campaign.content_hash! },
    { fromSeq: campaign.wave_size! + 1, toSeq: campaign.recipient_count ?? 0 },
  );
  return 'continued';
}

/** For the sweep: a campaign whose pause is over continues, even if its job was lost. */
export async function continueIfDue(ctx: AppContext, campaignId: string): Promise<boolean> {
  const campaign = await findCampaign(ctx.db, campaignId);
  if (campaign?.wave_stage !== 'paused' || !campaign.wave_paused_until || campaign.wave_paused_until > ctx.now()) return false;
  return (await continueCampaign(ctx, campaignId)) === 'continued';
}
