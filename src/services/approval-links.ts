import { describeInZone } from '../domain/time-zone.js';
import { randomUUID, timingSafeEqual } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { describeSendTime } from '../domain/schedule.js';
import { findLinkByTokenHash, insertLinks, recordLinkOpening, setLinkTokenHash } from '../db/approvals.js';
import type { CampaignRow, DB, UserRow } from '../db/schema.js';
import { findUserById } from '../db/users.js';
import { template } from '../mail/templates.js';
import { escapeHtml } from '../domain/merge-fields.js';
import { linkPlaceholder, type ApprovalEmailJob } from '../queue/jobs.js';
import type { Actor, AppContext } from './context.js';
import { queueNotifications } from './dispatch.js';
import { sendStaffEmail } from './staff-mail.js';
import { contributorsOf, type Contributors } from './quorum.js';
import { hashToken, newSecretToken } from './users.js';

/** "Written by Ana; edited by Bob; list 'All staff' changed by Dee". */
export function contributorsLine(c: Contributors): string {
  const parts = [`Written by ${c.author}`];
  if (c.editors.length) parts.push(`edited by ${c.editors.join(', ')}`);
  for (const change of c.listChanges) parts.push(`list '${change.list}' changed by ${change.by}`);
  return parts.join('; ');
}

/** The policy's rules, the first wave and the skipped recipients, in one line for the request email. */
function guardrailsLine(campaign: CampaignRow, holdMinutes: number): string {
  const parts = [...(campaign.policy?.applied ?? [])];
  if (campaign.wave_size) parts.push(`a first wave of ${campaign.wave_size}, then a pause of ${holdMinutes} minutes`);
  if (campaign.skipped_count) parts.push(`${campaign.skipped_count} recipient(s) skipped (suppressed)`);
  return parts.join('; ') || 'nothing beyond the approvals';
}

export function reviewUrl(ctx: AppContext, token: string): string {
  return new URL(`/approve/${token}`, ctx.config.PUBLIC_URL).toString();
}

/**
 * One link per approver, bound to them and to this content hash; the email goes out after commit.
 * The link's token is minted only when its email is sent (`sendApprovalRequest`): until then the
 * row holds the hash of a secret nobody keeps, and the queued job a placeholder.
 */
export async function issueApprovalRequests(
  ctx: AppContext,
  trx: Transaction<DB>,
  campaign: CampaignRow,
  approvers: UserRow[],
  submitter: Actor,
  reminder = false,
): Promise<{ enqueue(): Promise<void> }> {
  const contributors = contributorsLine(await contributorsOf(trx, campaign));
  const guardrails = guardrailsLine(campaign, ctx.config.FIRST_WAVE_HOLD_MINUTES);
  const expiresAt = new Date(ctx.now().getTime() + ctx.config.APPROVAL_LINK_TTL_HOURS * 3600_000);
  const issued = approvers.map((approver) => ({ approver, linkId: randomUUID() }));
  await insertLinks(
    trx,
    issued.map(({ approver, linkId }) => ({
      id: linkId,
      campaignId: campaign.id,
      approverId: approver.id,
      contentHash: campaign.content_hash!,
      tokenHash: hashToken(newSecretToken()),
      expiresAt,
      createdAt: ctx.now(),
    })),
  );
  const notifications: ApprovalEmailJob[] = issued.map(({ approver, linkId }) => {
    const values = {
      approverName: approver.name,
      submitterName: submitter.name,
      contributors,
      guardrails,
      recipientCount: String(campaign.recipient_count),
      subject: campaign.subject,
      from: `${campaign.from_name} <${campaign.from_address}>`,
      sendTime: describeSendTime(campaign.send_at, ctx.config.ORG_TIME_ZONE, campaign.kind),
      reviewUrl: linkPlaceholder(linkId),
      expiresAt: describeInZone(expiresAt, ctx.config.ORG_TIME_ZONE),
    };
    return {
      approvalLinkId: linkId,
      to: approver.email,
      subject: `${reminder ? 'Reminder: approval needed' : 'Approval needed'}: ${campaign.subject}`,
      html: template('layout.html').render({
        subject: `Approval needed: ${campaign.subject}`,
        preheader: `${submitter.name} asks you to review a message to ${campaign.recipient_count} recipients`,
        content: template('approval-request.html').render(values),
        footer: 'Sent by Countersign because you are an approver.',
      }),
      text: template('approval-request.txt').render(values),
    };
  });
  return { enqueue: () => queueNotifications(ctx, notifications) };
}

/** The notify worker's send of an approval request: a fresh token now, its hash on the link, the link in the email. */
export async function sendApprovalRequest(ctx: AppContext, job: ApprovalEmailJob): Promise<void> {
  const token = newSecretToken();
  if (!(await setLinkTokenHash(ctx.db, job.approvalLinkId, hashToken(token)))) return;
  const placeholder = linkPlaceholder(job.approvalLinkId);
  const url = reviewUrl(ctx, token);
  await sendStaffEmail(ctx, {
    to: job.to,
    subject: job.subject,
    html: job.html.replaceAll(placeholder, escapeHtml(url)),
    text: job.text.replaceAll(placeholder, url),
  });
}

export type LinkState = 'valid' | 'expired' | 'used' | 'edited' | 'closed';

export interface ResolvedLink {
  link: NonNullable<Awaited<ReturnType<typeof findLinkByTokenHash>>>;
  approver: UserRow;
}

/** Looks a token up by its hash; the constant-time compare guards against a lookup that matched loosely. */
export async function resolveLink(db: Kysely<DB>, token: string): Promise<ResolvedLink | null> {
  if (!/^[A-Za-z0-9_-]{43,}$/.test(token)) return null;
  const tokenHash = hashToken(token);
  const link = await findLinkByTokenHash(db, tokenHash);
  if (!link || !timingSafeEqual(Buffer.from(link.token_hash), Buffer.from(tokenHash))) return null;
  const approver = await findUserById(db, link.approver_id);
  return approver ? { link, approver } : null;
}

export function linkState(link: ResolvedLink['link'], campaign: CampaignRow, now: Date): LinkState {
  if (link.consumed_at) return 'used';
  if (link.content_hash !== campaign.content_hash) return 'edited';
  if (campaign.status !== 'pending_approval') return 'closed';
  if (link.expires_at.getTime() <= now.getTime()) return 'expired';
  return 'valid';
}

/** Every opening is kept: most first openings of a link in a corporate inbox are a scanner, not a person. */
export function logOpening(db: Kysely<DB>, linkId: string, request: { method: string; ip: string; userAgent: string }) {
  return recordLinkOpening(db, { linkId, ...request });
}
