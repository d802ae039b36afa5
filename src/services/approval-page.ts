import { describeInZone } from '../domain/time-zone.js';
import { isOwnDomain } from '../domain/addresses.js';
import { diffLines, type DiffLine } from '../domain/line-diff.js';
import { mergeFieldsIn } from '../domain/merge-fields.js';
import { describeSendTime } from '../domain/schedule.js';
import {
  findCampaign,
  lastVersionSeenBy,
  sampleRecipients,
  searchSnapshot,
  skipReasons,
  snapshotDomains,
  snapshotFieldValues,
} from '../db/campaigns.js';
import type { CampaignRow } from '../db/schema.js';
import { countByStatus, sampleInFlight } from '../db/deliveries.js';
import { findUserById } from '../db/users.js';
import { linkState, logOpening, resolveLink, type LinkState } from './approval-links.js';
import type { Actor, AppContext } from './context.js';
import { ownDomainsOf } from './organisation.js';
import { previewFor, type RecipientPreview } from './previews.js';
import { contributorsOf, quorumOf, type Contributors } from './quorum.js';
import { retractionReport, type RetractionReport } from './retraction.js';

/** What changed since the version this approver last saw, for a resubmitted campaign. */
export interface VersionChanges {
  submittedAt: Date;
  subject?: { before: string; after: string };
  recipientCount?: { before: number; after: number };
  sendAt?: { before: string; after: string };
  from?: { before: string; after: string };
  body?: DiffLine[];
}

/** Who a send reaches: by domain, and what each merge field will say across the whole audience. */
export interface AudienceSummary {
  total: number;
  domains: { domain: string; count: number; own: boolean }[];
  /** Domains beyond those listed. */
  moreDomains: number;
  fields: { name: string; top: { value: string; count: number }[]; distinct: number; empty: number }[];
}

export interface ApprovalReview {
  campaign: CampaignRow;
  approver: Actor;
  expiresAt: Date;
  contributors: Contributors;
  approvedBy: string[];
  /** The message as one recipient gets it: the first, or the one the approver searched for. */
  preview: RecipientPreview;
  recipientSearch: { query: string; matches: { email: string; name: string }[] };
  audience: AudienceSummary;
  /** The organisation's own mail domains: links and recipients elsewhere are marked external. */
  ownDomains: string[];
  sendTime: string;
  changes: VersionChanges | null;
  guardrails: Guardrails;
  /** For a correction: how many got the original so far, and how many deliveries of it are still in flight (they join as they land). */
  original: { received: number; inFlight: number } | null;
  /** For a correction whose recall also retracts: the retraction, with what its dry run found. */
  retraction: RetractionReport | null;
}

/** What the policy, the suppression list and the first wave do to this send, for the approver to see. */
export interface Guardrails {
  applied: string[];
  skipped: { reason: string; count: number }[];
  firstWave: { size: number; holdMinutes: number } | null;
}

export async function guardrailsOf(ctx: AppContext, campaign: CampaignRow): Promise<Guardrails> {
  return {
    applied: campaign.policy?.applied ?? [],
    skipped: campaign.skipped_count ? await skipReasons(ctx.db, campaign.id) : [],
    firstWave: campaign.wave_size ? { size: campaign.wave_size, holdMinutes: ctx.config.FIRST_WAVE_HOLD_MINUTES } : null,
  };
}

export type ApprovalLinkView = { state: 'invalid' } | { state: Exclude<LinkState, 'valid'> } | { state: 'valid'; review: ApprovalReview };

const NOBODY_YET = { email: 'nobody-yet@example.invalid', name: '', fields: {} };
const TOP_DOMAINS = 10;
const TOP_VALUES = 8;
const SEARCH_MATCHES = 10;

/**
 * What an emailed approval link shows. `opening` is logged when given (a GET or HEAD: a person
 * or a scanner); a re-render after a refused decision passes none. `recipientQuery` switches the
 * preview to a recipient whose address contains it.
 */
export async function openApprovalLink(
  ctx: AppContext,
  token: string,
  opening?: { method: string; ip: string; userAgent: string },
  recipientQuery = '',
): Promise<ApprovalLinkView> {
  const resolved = await resolveLink(ctx.db, token);
  const campaign = resolved && (await findCampaign(ctx.db, resolved.link.campaign_id));
  if (!resolved || !campaign) return { state: 'invalid' };
  if (opening) await logOpening(ctx.db, resolved.link.id, opening);
  const state = linkState(resolved.link, campaign, ctx.now());
  if (state !== 'valid') return { state };
  const query = recipientQuery.trim().toLowerCase().slice(0, 254);
  const [contributors, quorum, changes, first, matches, audience, guardrails] = await Promise.all([
    contributorsOf(ctx.db, campaign),
    quorumOf(ctx.db, campaign),
    changesSince(ctx, campaign, resolved.approver.id),
    sampleRecipients(ctx.db, campaign.id, 1),
    query ? searchSnapshot(ctx.db, campaign.id, query, SEARCH_MATCHES) : Promise.resolve([]),
    audienceSummary(ctx, campaign),
    guardrailsOf(ctx, campaign),
  ]);
  const approvedBy = await Promise.all(quorum.approvedBy.map(async (id) => (await findUserById(ctx.db, id))?.name ?? id));
  const original = campaign.original_campaign_id ? await countByStatus(ctx.db, campaign.original_campaign_id) : null;
  // A correction frozen before anyone's result came in shows the message as one of those still in flight gets it.
  const inFlight = !first[0] && campaign.original_campaign_id ? await sampleInFlight(ctx.db, campaign.original_campaign_id) : undefined;
  const shown = matches.find((m) => m.email === query) ?? matches[0] ?? first[0] ?? inFlight ?? NOBODY_YET;
  return {
    state,
    review: {
      campaign,
      approver: resolved.approver,
      expiresAt: resolved.link.expires_at,
      contributors,
      approvedBy,
      preview: previewFor(campaign, shown),
      recipientSearch: { query, matches: matches.map(({ email, name }) => ({ email, name })) },
      audience,
      ownDomains: ownDomainsOf(ctx, campaign),
      sendTime: describeSendTime(campaign.send_at, ctx.config.ORG_TIME_ZONE, campaign.kind),
      changes,
      guardrails,
      original: original ? { received: original.sent + original.unknown, inFlight: original.sending } : null,
      retraction: campaign.original_campaign_id ? await retractionReport(ctx, campaign.original_campaign_id) : null,
    },
  };
}

async function audienceSummary(ctx: AppContext, campaign: CampaignRow): Promise<AudienceSummary> {
  const own = ownDomainsOf(ctx, campaign);
  const used = mergeFieldsIn(campaign.subject, campaign.body_markdown);
  const [domains, fields] = await Promise.all([
    snapshotDomains(ctx.db, campaign.id, TOP_DOMAINS),
    Promise.all(used.map(async (name) => ({ name, ...(await snapshotFieldValues(ctx.db, campaign.id, name, TOP_VALUES)) }))),
  ]);
  return {
    total: campaign.recipient_count ?? 0,
    domains: domains.top.map((d) => ({ ...d, own: isOwnDomain(d.domain, own) })),
    moreDomains: Math.max(0, domains.domains - domains.top.length),
    fields,
  };
}

async function changesSince(ctx: AppContext, campaign: CampaignRow, approverId: string): Promise<VersionChanges | null> {
  const seen = await lastVersionSeenBy(ctx.db, campaign.id, approverId, campaign.content_hash!);
  if (!seen) return null;
  const differs = <T>(before: T, after: T) => (before === after ? undefined : { before, after });
  const when = (d: Date | null) => (d ? describeInZone(d, ctx.config.ORG_TIME_ZONE) : 'as soon as approved');
  return {
    submittedAt: seen.submitted_at,
    subject: differs(seen.subject, campaign.subject),
    recipientCount: differs(seen.recipient_count, campaign.recipient_count ?? 0),
    sendAt: differs(when(seen.send_at), when(campaign.send_at)),
    from: differs(`${seen.from_name} <${seen.from_address}>`, `${campaign.from_name} <${campaign.from_address}>`),
    body: seen.body_markdown === campaign.body_markdown ? undefined : diffLines(seen.body_markdown, campaign.body_markdown),
  };
}
