import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { linkDecisionInput, rejectInput } from '../domain/inputs.js';
import { evaluateQuorum, refuseDecision } from '../domain/quorum.js';
import { effectiveSendAt, holdWindowMs } from '../domain/schedule.js';
import { consumeLink, insertDecision } from '../db/approvals.js';
import { findCampaign, lockCampaign, updateCampaignIf } from '../db/campaigns.js';
import type { CampaignRow, DB } from '../db/schema.js';
import { linkState, resolveLink, type LinkState } from './approval-links.js';
import { recordEvent } from './audit.js';
import { requireRole, type Actor, type AppContext } from './context.js';
import { scheduleStart } from './dispatch.js';
import { AppError, conflict, invalid, notFound, parseInput, type ErrorCode } from './errors.js';
import { timeToQuorum } from './metrics.js';
import { quorumInputOf, quorumOf } from './quorum.js';
import { tellApproved, tellRejected } from './campaign-notices.js';
import { findUserById } from '../db/users.js';
import { transition } from './transition.js';

export const approveInput = z
  .object({ contentHash: z.string().regex(/^[0-9a-f]{64}$/, 'must be the 64-hex content hash you reviewed') })
  .strict();

interface Decision {
  approver: Actor;
  campaignId: string;
  reviewedHash: string;
  decision: 'approve' | 'reject';
  reason: string | null;
  via: 'api' | 'link';
  /** For a link: consumed in the same transaction, so a failed decision leaves the link usable. */
  linkId?: string;
}

export async function approveByApi(ctx: AppContext, actor: Actor, campaignId: string, body: unknown) {
  const { contentHash } = parseInput(approveInput, body);
  return decide(ctx, { approver: actor, campaignId, reviewedHash: contentHash, decision: 'approve', reason: null, via: 'api' });
}

export async function rejectByApi(ctx: AppContext, actor: Actor, campaignId: string, body: unknown) {
  const { reason } = parseInput(rejectInput, body);
  const campaign = await findCampaign(ctx.db, campaignId);
  if (!campaign) throw notFound('campaign');
  const reviewed = (body as { contentHash?: unknown }).contentHash;
  return decide(ctx, {
    approver: actor,
    campaignId,
    reviewedHash: typeof reviewed === 'string' ? reviewed : (campaign.content_hash ?? ''),
    decision: 'reject',
    reason,
    via: 'api',
  });
}

/** The one place a decision is taken, whether it came through the API or an emailed link. */
export async function decide(ctx: AppContext, decision: Decision): Promise<CampaignRow> {
  requireRole(decision.approver, 'approver');
  const now = ctx.now();
  const campaign = await ctx.db.transaction().execute(async (trx) => {
    const current = await lockCampaign(trx, decision.campaignId);
    if (!current) throw notFound('campaign');
    if (current.status !== 'pending_approval') {
      throw conflict('not_pending', `the campaign is ${current.status.replace('_', ' ')}, not awaiting approval`);
    }
    const quorumInput = await quorumInputOf(trx, { ...current, content_hash: current.content_hash! });
    const refusal = refuseDecision(quorumInput, decision.approver.id, decision.reviewedHash);
    if (refusal)
      throw new AppError(refusal.code === 'duplicate' || refusal.code === 'stale_hash' ? 409 : 403, refusal.code, refusal.message);
    if (decision.linkId && !(await consumeLink(trx, decision.linkId, now))) {
      throw conflict('link_used', 'this approval link has already been used or has expired');
    }
    await insertDecision(trx, {
      id: randomUUID(),
      campaignId: current.id,
      approverId: decision.approver.id,
      contentHash: current.content_hash!,
      decision: decision.decision,
      reason: decision.reason,
      via: decision.via,
    });
    await recordEvent(trx, {
      actor: decision.approver.email,
      action: decision.decision === 'approve' ? 'campaign.approve' : 'campaign.reject',
      campaignId: current.id,
      data: { contentHash: current.content_hash, via: decision.via, ...(decision.reason ? { reason: decision.reason } : {}) },
      at: now,
    });
    if (decision.decision === 'reject') {
      return (await updateCampaignIf(trx, current.id, ['pending_approval'], { status: transition(current.status, 'reject') }))!;
    }
    const thisApproval = {
      approverId: decision.approver.id,
      contentHash: current.content_hash!,
      decision: 'approve' as const,
      voided: false,
      approverEligible: true,
      approverIsAdmin: decision.approver.roles.includes('admin'),
    };
    const quorum = evaluateQuorum({ ...quorumInput, approvals: [...quorumInput.approvals, thisApproval] });
    if (!quorum.reached) return current;
    return reachQuorum(ctx, trx, current, quorum.approvedBy, now);
  });
  if (campaign.status === 'scheduled') {
    await scheduleStart(ctx, campaign);
    const { approvedBy } = await quorumOf(ctx.db, campaign);
    await tellApproved(ctx, campaign, await Promise.all(approvedBy.map(async (id) => (await findUserById(ctx.db, id))?.name ?? id)));
  }
  if (decision.decision === 'reject') await tellRejected(ctx, campaign, decision.approver.name, decision.reason ?? '');
  return campaign;
}

async function reachQuorum(
  ctx: AppContext,
  trx: Transaction<DB>,
  campaign: CampaignRow,
  approvedBy: string[],
  now: Date,
): Promise<CampaignRow> {
  // A sensitive list may ask for a longer hold than the configured one; corrections have none.
  const scheduledFor = effectiveSendAt(
    campaign.send_at,
    now,
    holdWindowMs(campaign.kind, ctx.config.HOLD_WINDOW_SECONDS, campaign.policy?.holdMinutes),
  );
  const updated = await updateCampaignIf(trx, campaign.id, ['pending_approval'], {
    status: transition(campaign.status, 'reach_quorum'),
    quorum_reached_at: now,
    scheduled_for: scheduledFor,
  });
  if (campaign.submitted_at) timeToQuorum.observe((now.getTime() - campaign.submitted_at.getTime()) / 1000);
  await recordEvent(trx, {
    actor: 'system',
    action: 'campaign.schedule',
    campaignId: campaign.id,
    data: { approvedBy, scheduledFor: scheduledFor.toISOString(), contentHash: campaign.content_hash },
    at: now,
  });
  return updated!;
}

const LINK_STATE_CODES: Record<Exclude<LinkState, 'valid'>, ErrorCode> = {
  used: 'link_used',
  edited: 'link_edited',
  closed: 'link_closed',
  expired: 'link_expired',
};

/**
 * The deciding POST from a link. It needs the approver's own session (a scanner has none)
 * and the typed recipient count (a scanner does not know it); without either nothing is
 * decided and the link stays usable for the person it was sent to.
 */
export async function decideByLink(ctx: AppContext, token: string, body: unknown, signedInAs: Actor): Promise<CampaignRow> {
  const input = parseInput(linkDecisionInput, body);
  const resolved = await resolveLink(ctx.db, token);
  if (!resolved) throw notFound('approval link');
  if (resolved.approver.id !== signedInAs.id) {
    throw new AppError(
      403,
      'wrong_approver',
      `This link was sent to ${resolved.approver.email}; you are signed in as ${signedInAs.email}. Only they can decide with it.`,
    );
  }
  const campaign = await findCampaign(ctx.db, resolved.link.campaign_id);
  if (!campaign) throw notFound('campaign');
  const state = linkState(resolved.link, campaign, ctx.now());
  if (state !== 'valid') throw conflict(LINK_STATE_CODES[state], `this approval link decides nothing: it is ${state}`);
  if (input.recipientCount === undefined || input.recipientCount === '') {
    throw invalid([{ field: 'recipientCount', message: 'type the number of recipients shown on the page to confirm' }]);
  }
  if (input.recipientCount.replace(/[\s,._']/g, '') !== String(campaign.recipient_count)) {
    throw invalid([{ field: 'recipientCount', message: 'that is not the number of recipients shown on the page' }]);
  }
  if (input.decision === 'reject' && !input.reason) {
    throw invalid([{ field: 'reason', message: 'a rejection needs a reason' }]);
  }
  return decide(ctx, {
    approver: resolved.approver,
    campaignId: campaign.id,
    reviewedHash: resolved.link.content_hash,
    decision: input.decision,
    reason: input.reason ?? null,
    via: 'link',
    linkId: resolved.link.id,
  });
}
