import type { ChainedEvent } from '../domain/audit-chain.js';
import { mayBeRecalled } from '../domain/correction.js';
import { deliveryProgress, noDeliveries, type DeliveryCounts } from '../domain/delivery.js';
import { approvalHistory } from '../db/approvals.js';
import { askedApprovers, findCampaign, listCampaigns, openCorrectionOf, sampleRecipients } from '../db/campaigns.js';
import { countByStatus, countsForCampaigns } from '../db/deliveries.js';
import type { CampaignRow } from '../db/schema.js';
import { findUserById } from '../db/users.js';
import { campaignAudit } from './audit.js';
import { getCampaign } from './campaigns.js';
import type { Actor, AppContext } from './context.js';
import { mayHalt } from './halt.js';
import { previewFor } from './previews.js';
import { quorumOf } from './quorum.js';
import { correctionBody } from './recall.js';
import { retractionOff, retractionReport, type RetractionReport } from './retraction.js';

/** What the console's pages show, read once here so that the pages only render. */

export interface CampaignListItem {
  campaign: CampaignRow;
  approved: number;
  counts: DeliveryCounts;
}

export async function campaignListItems(ctx: AppContext): Promise<CampaignListItem[]> {
  const campaigns = await listCampaigns(ctx.db, { limit: 100, offset: 0 });
  const counts = await countsForCampaigns(ctx.db, campaigns.map((c) => c.id));
  return Promise.all(
    campaigns.map(async (campaign) => ({
      campaign,
      approved: (await quorumOf(ctx.db, campaign)).approvedBy.length,
      counts: counts.get(campaign.id) ?? noDeliveries(),
    })),
  );
}

export interface CampaignPageModel {
  campaign: CampaignRow;
  authorName: string;
  approvedBy: string[];
  asked: { name: string; email: string; decided: boolean }[];
  decisions: { name: string; decision: string; reason: string | null; at: Date; voided: boolean }[];
  counts: DeliveryCounts;
  /** The frozen message as its first recipient gets it; null before the audience is frozen. */
  messageHtml: string | null;
  audit: ChainedEvent[];
  original: CampaignRow | null;
  correction: CampaignRow | null;
  recallable: boolean;
  canHalt: boolean;
  isAuthor: boolean;
  holdWindowSeconds: number;
  /** A retraction of this campaign's messages, asked for with its recall. */
  retraction: RetractionReport | null;
  /** The viewer may approve it now: an approver or admin, not its requester, not yet approved. */
  canApproveRetraction: boolean;
  canHaltRetraction: boolean;
}

export async function campaignPageModel(ctx: AppContext, id: string, viewer: Actor): Promise<CampaignPageModel> {
  const campaign = await getCampaign(ctx, id);
  const [author, history, quorum, counts, audit, sample, correction, original] = await Promise.all([
    findUserById(ctx.db, campaign.author_id),
    approvalHistory(ctx.db, campaign.id),
    quorumOf(ctx.db, campaign),
    countByStatus(ctx.db, campaign.id),
    campaignAudit(ctx.db, campaign.id),
    sampleRecipients(ctx.db, campaign.id, 1),
    openCorrectionOf(ctx.db, campaign.id),
    campaign.original_campaign_id ? findCampaign(ctx.db, campaign.original_campaign_id) : Promise.resolve(undefined),
  ]);
  const names = new Map(history.map((d) => [d.approver_id, d.approver_name]));
  const asked = campaign.content_hash && campaign.status === 'pending_approval' ? await askedApprovers(ctx.db, campaign.id, campaign.content_hash) : [];
  const decidedThisVersion = (approverId: string) => history.some((d) => d.approver_id === approverId && d.content_hash === campaign.content_hash);
  const reachedAnyone = counts.sent + counts.unknown + counts.sending > 0;
  const retraction = await retractionReport(ctx, campaign.id);
  const deciders = viewer.roles.includes('approver') || viewer.roles.includes('admin');
  return {
    campaign,
    authorName: author?.name ?? 'unknown',
    approvedBy: quorum.approvedBy.map((approverId) => names.get(approverId) ?? approverId),
    asked: asked.map((a) => ({ name: a.name, email: a.email, decided: a.consumed_at !== null || decidedThisVersion(a.id) })),
    decisions: history.map((d) => ({ name: d.approver_name, decision: d.decision, reason: d.reason, at: d.created_at, voided: d.voided_at !== null })),
    counts,
    messageHtml: sample[0] ? previewFor(campaign, sample[0]).html : null,
    audit,
    original: original ?? null,
    correction: correction ?? null,
    recallable: mayBeRecalled(campaign.status) && !correction && reachedAnyone && mayHalt(viewer, campaign),
    canHalt: mayHalt(viewer, campaign),
    isAuthor: campaign.author_id === viewer.id,
    holdWindowSeconds: ctx.config.HOLD_WINDOW_SECONDS,
    retraction,
    canApproveRetraction:
      retraction?.status === 'pending_approval' && deciders && retraction.requestedBy !== viewer.id && !retraction.approvals.some((a) => a.email === viewer.email),
    canHaltRetraction: ['checking', 'pending_approval', 'running'].includes(retraction?.status ?? '') && (deciders || retraction?.requestedBy === viewer.id),
  };
}

/** The live numbers a campaign page polls while it sends. */
export async function campaignProgress(ctx: AppContext, id: string) {
  const campaign = await getCampaign(ctx, id);
  const counts = await countByStatus(ctx.db, campaign.id);
  return { status: campaign.status, counts, ...deliveryProgress(counts, campaign.recipient_count ?? 0) };
}

export interface RecallPageModel {
  campaign: CampaignRow;
  sent: number;
  unknown: number;
  inFlight: number;
  defaultBody: string;
  /** Why the recall cannot also retract here; null when it can. */
  retractionOff: string | null;
}

/** Before a recall: who got the original (and so gets the correction), and what the correction will say. */
export async function recallPageModel(ctx: AppContext, id: string): Promise<RecallPageModel> {
  const campaign = await getCampaign(ctx, id);
  const counts = await countByStatus(ctx.db, campaign.id);
  return {
    campaign,
    sent: counts.sent,
    unknown: counts.unknown,
    inFlight: counts.sending,
    defaultBody: correctionBody(campaign, undefined, ctx.config.ORG_TIME_ZONE),
    retractionOff: retractionOff(ctx),
  };
}
