import { diffLines, type DiffLine } from '../domain/line-diff.js';
import { describeSendTime } from '../domain/schedule.js';
import { findCampaign, lastVersionSeenBy, sampleRecipients } from '../db/campaigns.js';
import type { CampaignRow } from '../db/schema.js';
import { findUserById } from '../db/users.js';
import { linkState, logOpening, resolveLink, type LinkState } from './approval-links.js';
import type { Actor, AppContext } from './context.js';
import { renderForRecipient } from './previews.js';
import { quorumOf } from './quorum.js';

/** What changed since the version this approver last saw, for a resubmitted campaign. */
export interface VersionChanges {
  submittedAt: Date;
  subject?: { before: string; after: string };
  recipientCount?: { before: number; after: number };
  sendAt?: { before: string; after: string };
  from?: { before: string; after: string };
  body?: DiffLine[];
}

export interface ApprovalReview {
  campaign: CampaignRow;
  approver: Actor;
  expiresAt: Date;
  authorName: string;
  approvedBy: string[];
  messageHtml: string;
  sample: { email: string; name: string }[];
  sendTime: string;
  changes: VersionChanges | null;
}

export type ApprovalLinkView = { state: 'invalid' } | { state: Exclude<LinkState, 'valid'> } | { state: 'valid'; review: ApprovalReview };

const SAMPLE_SIZE = 10;

/**
 * What an emailed approval link shows. `opening` is logged when given (a GET or HEAD: a person
 * or a scanner); a re-render after a refused decision passes none.
 */
export async function openApprovalLink(
  ctx: AppContext,
  token: string,
  opening?: { method: string; ip: string; userAgent: string },
): Promise<ApprovalLinkView> {
  const resolved = await resolveLink(ctx.db, token);
  const campaign = resolved && (await findCampaign(ctx.db, resolved.link.campaign_id));
  if (!resolved || !campaign) return { state: 'invalid' };
  if (opening) await logOpening(ctx.db, resolved.link.id, opening);
  const state = linkState(resolved.link, campaign, ctx.now());
  if (state !== 'valid') return { state };
  const [author, sample, quorum, changes] = await Promise.all([
    findUserById(ctx.db, campaign.author_id),
    sampleRecipients(ctx.db, campaign.id, SAMPLE_SIZE),
    quorumOf(ctx.db, campaign),
    changesSince(ctx, campaign, resolved.approver.id),
  ]);
  const approvedBy = await Promise.all(quorum.approvedBy.map(async (id) => (await findUserById(ctx.db, id))?.name ?? id));
  return {
    state,
    review: {
      campaign,
      approver: resolved.approver,
      expiresAt: resolved.link.expires_at,
      authorName: author?.name ?? 'someone',
      approvedBy,
      messageHtml: renderForRecipient(campaign, sample[0]!),
      sample,
      sendTime: describeSendTime(campaign.send_at),
      changes,
    },
  };
}

async function changesSince(ctx: AppContext, campaign: CampaignRow, approverId: string): Promise<VersionChanges | null> {
  const seen = await lastVersionSeenBy(ctx.db, campaign.id, approverId, campaign.content_hash!);
  if (!seen) return null;
  const differs = <T>(before: T, after: T) => (before === after ? undefined : { before, after });
  const when = (d: Date | null) => (d ? d.toUTCString() : 'as soon as approved');
  return {
    submittedAt: seen.submitted_at,
    subject: differs(seen.subject, campaign.subject),
    recipientCount: differs(seen.recipient_count, campaign.recipient_count ?? 0),
    sendAt: differs(when(seen.send_at), when(campaign.send_at)),
    from: differs(`${seen.from_name} <${seen.from_address}>`, `${campaign.from_name} <${campaign.from_address}>`),
    body: seen.body_markdown === campaign.body_markdown ? undefined : diffLines(seen.body_markdown, campaign.body_markdown),
  };
}
