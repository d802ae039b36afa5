import { z } from 'zod';
import { decisionOutcome, voidedBecause } from '../domain/approval-wording.js';
import { auditSentence } from '../domain/audit-sentences.js';
import { CAMPAIGN_STATUSES } from '../domain/campaign-state.js';
import { mayBeRecalled } from '../domain/correction.js';
import { noDeliveries, type DeliveryCounts } from '../domain/delivery.js';
import { deliveryBreakdown, type DeliveryBreakdown } from '../domain/delivery-progress.js';
import { describeHoldWindow } from '../domain/durations.js';
import { livePollMs } from '../domain/live-poll.js';
import { holdWindowMs } from '../domain/schedule.js';
import { bucketSecondsFor, describeBucket } from '../domain/timeline.js';
import { approvalHistory } from '../db/approvals.js';
import {
  askedApprovers,
  campaignAuthors,
  countCampaigns,
  findCampaign,
  listCampaigns,
  openCorrectionOf,
  sampleRecipients,
} from '../db/campaigns.js';
import { countByStatus, countsForCampaigns, outcomesPerBucket, outcomeSpan } from '../db/deliveries.js';
import type { CampaignRow } from '../db/schema.js';
import { findUserById, namesByEmail } from '../db/users.js';
import { campaignAudit } from './audit.js';
import { getCampaign } from './campaigns.js';
import { SYSTEM_ACTOR, type Actor, type AppContext } from './context.js';
import { anyIfEmpty, parseInput } from './errors.js';
import { mayHalt } from './halt.js';
import { previewFor } from './previews.js';
import { quorumOf } from './quorum.js';
import { correctionBody } from './recall.js';
import { retractionOff, retractionReport, type RetractionReport } from './retraction.js';

/** What the console's pages show, read once here so that the pages only render. */

export const CAMPAIGN_LIST_PAGE_SIZE = 50;

/** The campaign list's search and filters, as its form sends them. */
export const campaignListQuery = z.object({
  q: z.string().trim().max(200).default(''),
  status: anyIfEmpty(z.enum(CAMPAIGN_STATUSES)),
  kind: anyIfEmpty(z.enum(['policy', 'correction'])),
  author: anyIfEmpty(z.string().max(100)),
  page: z.coerce
    .number()
    .int()
    .min(1)
    .max(Math.floor(1_000_000 / CAMPAIGN_LIST_PAGE_SIZE))
    .default(1),
});
export type CampaignListQuery = z.infer<typeof campaignListQuery>;

export interface CampaignListItem {
  campaign: CampaignRow;
  approved: number;
  breakdown: DeliveryBreakdown;
}

export interface CampaignListModel {
  items: CampaignListItem[];
  query: CampaignListQuery;
  total: number;
  pageSize: number;
  authors: { id: string; name: string; email: string }[];
}

export async function campaignListModel(ctx: AppContext, rawQuery: unknown): Promise<CampaignListModel> {
  const query = parseInput(campaignListQuery, rawQuery, 'query');
  const search = { subject: query.q || undefined, status: query.status, kind: query.kind, authorId: query.author };
  const [rows, total, authors] = await Promise.all([
    listCampaigns(ctx.db, search, { limit: CAMPAIGN_LIST_PAGE_SIZE, offset: (query.page - 1) * CAMPAIGN_LIST_PAGE_SIZE }),
    countCampaigns(ctx.db, search),
    campaignAuthors(ctx.db),
  ]);
  const counts = await countsForCampaigns(
    ctx.db,
    rows.map((c) => c.id),
  );
  const items = await Promise.all(
    rows.map(async (campaign) => ({
      campaign,
      approved: (await quorumOf(ctx.db, campaign)).approvedBy.length,
      breakdown: deliveryBreakdown(counts.get(campaign.id) ?? noDeliveries(), campaign.recipient_count ?? 0, campaign.status),
    })),
  );
  return { items, query, total, pageSize: CAMPAIGN_LIST_PAGE_SIZE, authors };
}

export interface DeliveryTimeline {
  bucketSeconds: number;
  bucketLabel: string;
  buckets: { start: Date; sent: number; failed: number; unknown: number }[];
  totals: { sent: number; failed: number; unknown: number };
}

/** Outcomes over time, bucketed in SQL; the bucket is the narrowest that fits the send in a chart's bars. */
export async function deliveryTimeline(ctx: AppContext, campaignId: string): Promise<DeliveryTimeline | null> {
  const span = await outcomeSpan(ctx.db, campaignId);
  if (!span) return null;
  const bucketSeconds = bucketSecondsFor((span.last.getTime() - span.first.getTime()) / 1000);
  const byBucket = new Map<number, DeliveryTimeline['buckets'][number]>();
  const first = Math.floor(span.first.getTime() / 1000 / bucketSeconds) * bucketSeconds;
  const last = Math.floor(span.last.getTime() / 1000 / bucketSeconds) * bucketSeconds;
  // Every bucket from the first outcome to the last, empty ones too: a pause shows as a gap.
  for (let at = first; at <= last; at += bucketSeconds) byBucket.set(at, { start: new Date(at * 1000), sent: 0, failed: 0, unknown: 0 });
  const totals = { sent: 0, failed: 0, unknown: 0 };
  for (const row of await outcomesPerBucket(ctx.db, campaignId, bucketSeconds)) {
    const bucket = byBucket.get(row.start.getTime() / 1000);
    if (bucket) bucket[row.status] += row.count;
    totals[row.status] += row.count;
  }
  return { bucketSeconds, bucketLabel: describeBucket(bucketSeconds), buckets: [...byBucket.values()], totals };
}

export interface AuditLine {
  at: Date;
  who: string;
  sentence: string;
  action: string;
  data: Record<string, unknown>;
}

/** The campaign's audit events as sentences, naming people where the actor is one. */
async function auditLines(ctx: AppContext, campaignId: string): Promise<AuditLine[]> {
  const events = await campaignAudit(ctx.db, campaignId);
  const names = await namesByEmail(ctx.db, [...new Set(events.map((e) => e.actor))]);
  return events.map((event) => {
    const who = event.actor === SYSTEM_ACTOR ? 'Countersign' : (names.get(event.actor) ?? event.actor);
    return {
      at: new Date(event.at),
      who,
      sentence: auditSentence({ action: event.action, who, data: event.data, timeZone: ctx.config.ORG_TIME_ZONE }),
      action: event.action,
      data: event.data,
    };
  });
}

/** The parts of the campaign page that change while it is open: polled and swapped in place. */
export interface CampaignLiveModel {
  campaign: CampaignRow;
  approvedBy: string[];
  asked: { name: string; email: string; decided: boolean }[];
  decisions: { name: string; decision: string; reason: string | null; at: Date; voided: string | null }[];
  counts: DeliveryCounts;
  breakdown: DeliveryBreakdown;
  timeline: DeliveryTimeline | null;
  audit: AuditLine[];
  correction: CampaignRow | null;
  recallable: boolean;
  canHalt: boolean;
  isAuthor: boolean;
  holdWindow: string;
  /** How soon an open page asks again; null once nothing more changes by itself. */
  pollMs: number | null;
  /** A retraction of this campaign's messages, asked for with its recall. */
  retraction: RetractionReport | null;
  /** The viewer may approve it now: an approver or admin, not its requester, not yet approved. */
  canApproveRetraction: boolean;
  canHaltRetraction: boolean;
}

export interface CampaignPageModel extends CampaignLiveModel {
  authorName: string;
  /** The frozen message as its first recipient gets it; null before the audience is frozen. */
  messageHtml: string | null;
  original: CampaignRow | null;
}

export async function campaignLiveModel(ctx: AppContext, id: string, viewer: Actor): Promise<CampaignLiveModel> {
  const campaign = await getCampaign(ctx, id);
  const [history, quorum, counts, timeline, audit, correction] = await Promise.all([
    approvalHistory(ctx.db, campaign.id),
    quorumOf(ctx.db, campaign),
    countByStatus(ctx.db, campaign.id),
    deliveryTimeline(ctx, campaign.id),
    auditLines(ctx, campaign.id),
    openCorrectionOf(ctx.db, campaign.id),
  ]);
  const names = new Map(history.map((d) => [d.approver_id, d.approver_name]));
  const asked =
    campaign.content_hash && campaign.status === 'pending_approval' ? await askedApprovers(ctx.db, campaign.id, campaign.content_hash) : [];
  const decidedThisVersion = (approverId: string) =>
    history.some((d) => d.approver_id === approverId && d.content_hash === campaign.content_hash);
  const reachedAnyone = counts.sent + counts.unknown + counts.sending > 0;
  const retraction = await retractionReport(ctx, campaign.id);
  const deciders = viewer.roles.includes('approver') || viewer.roles.includes('admin');
  return {
    campaign,
    approvedBy: quorum.approvedBy.map((approverId) => names.get(approverId) ?? approverId),
    asked: asked.map((a) => ({ name: a.name, email: a.email, decided: a.consumed_at !== null || decidedThisVersion(a.id) })),
    decisions: history.map((d) => ({
      name: d.approver_name,
      decision: d.decision,
      reason: d.reason,
      at: d.created_at,
      voided: d.voided_at === null ? null : voidedBecause(d.void_reason),
    })),
    counts,
    breakdown: deliveryBreakdown(counts, campaign.recipient_count ?? 0, campaign.status),
    timeline,
    audit,
    correction: correction ?? null,
    recallable: mayBeRecalled(campaign.status) && !correction && reachedAnyone && mayHalt(viewer, campaign),
    canHalt: mayHalt(viewer, campaign),
    isAuthor: campaign.author_id === viewer.id,
    holdWindow: describeHoldWindow(
      campaign.kind,
      holdWindowMs(campaign.kind, ctx.config.HOLD_WINDOW_SECONDS, campaign.policy?.holdMinutes) / 1000,
    ),
    pollMs: livePollMs(
      campaign.status,
      counts.sending,
      Object.values(counts).reduce((sum, n) => sum + n, 0),
    ),
    retraction,
    canApproveRetraction:
      retraction?.status === 'pending_approval' &&
      deciders &&
      retraction.requestedBy !== viewer.id &&
      !retraction.approvals.some((a) => a.email === viewer.email),
    canHaltRetraction:
      ['checking', 'pending_approval', 'running'].includes(retraction?.status ?? '') && (deciders || retraction?.requestedBy === viewer.id),
  };
}

export async function campaignPageModel(ctx: AppContext, id: string, viewer: Actor): Promise<CampaignPageModel> {
  const live = await campaignLiveModel(ctx, id, viewer);
  const { campaign } = live;
  const [author, sample, original] = await Promise.all([
    findUserById(ctx.db, campaign.author_id),
    sampleRecipients(ctx.db, campaign.id, 1),
    campaign.original_campaign_id ? findCampaign(ctx.db, campaign.original_campaign_id) : Promise.resolve(undefined),
  ]);
  return {
    ...live,
    authorName: author?.name ?? 'unknown',
    messageHtml: sample[0] ? previewFor(campaign, sample[0]).html : null,
    original: original ?? null,
  };
}

/** What an approver is told after deciding through the emailed link. */
export async function decisionOutcomeOf(ctx: AppContext, campaign: CampaignRow, decision: 'approve' | 'reject'): Promise<string> {
  const quorum = await quorumOf(ctx.db, campaign);
  return decisionOutcome({ decision, status: campaign.status, approved: quorum.approvedBy.length, required: quorum.required });
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
