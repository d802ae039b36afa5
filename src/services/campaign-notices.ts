import { describeInZone } from '../domain/time-zone.js';
import type { DeliveryCounts } from '../domain/delivery.js';
import type { CampaignRow } from '../db/schema.js';
import { findUserById, usersWithRole } from '../db/users.js';
import type { AppContext } from './context.js';
import { queuePlainNotices } from './dispatch.js';
import { quorumOf } from './quorum.js';

/**
 * What the people behind a campaign are told as it goes: its author at every step, and its
 * approvers where they may need to act (a first wave that went out, a halt they did not make).
 */

function campaignUrl(ctx: AppContext, campaign: Pick<CampaignRow, 'id'>): string {
  return new URL(`/campaigns/${campaign.id}`, ctx.config.PUBLIC_URL).toString();
}

function tell(ctx: AppContext, to: (string | undefined)[], subject: string, lines: string[]): Promise<void> {
  return queuePlainNotices(ctx, to, subject, lines.filter(Boolean).join('\n\n'));
}

const authorOf = async (ctx: AppContext, campaign: CampaignRow) => (await findUserById(ctx.db, campaign.author_id))?.email;

async function approversOf(ctx: AppContext, campaign: CampaignRow): Promise<string[]> {
  const { approvedBy } = await quorumOf(ctx.db, campaign, 'as_approved');
  return Promise.all(approvedBy.map(async (id) => (await findUserById(ctx.db, id))?.email ?? '')).then((emails) => emails.filter(Boolean));
}

const counted = (d: DeliveryCounts) =>
  `${d.sent} delivered, ${d.failed} failed, ${d.unknown} unknown, ${d.skipped} skipped, ${d.halted} stopped`;

export async function tellApproved(ctx: AppContext, campaign: CampaignRow, approverNames: string[]): Promise<void> {
  await tell(ctx, [await authorOf(ctx, campaign)], `Approved: ${campaign.subject}`, [
    `"${campaign.subject}" was approved by ${approverNames.join(' and ')}.`,
    `It is scheduled for ${campaign.scheduled_for ? describeInZone(campaign.scheduled_for, ctx.config.ORG_TIME_ZONE) : 'now'}. Until then, and while it sends, you can halt it: ${campaignUrl(ctx, campaign)}`,
  ]);
}

export async function tellRejected(ctx: AppContext, campaign: CampaignRow, approverName: string, reason: string): Promise<void> {
  await tell(ctx, [await authorOf(ctx, campaign)], `Rejected: ${campaign.subject}`, [
    `${approverName} rejected "${campaign.subject}": ${reason}`,
    `It is a draft again: ${campaignUrl(ctx, campaign)}`,
  ]);
}

export async function tellWaveSent(ctx: AppContext, campaign: CampaignRow, deliveries: DeliveryCounts, continuesAt: Date): Promise<void> {
  await tell(ctx, [await authorOf(ctx, campaign), ...(await approversOf(ctx, campaign))], `First wave sent: ${campaign.subject}`, [
    `The first wave of "${campaign.subject}" has gone out: ${counted(deliveries)}.`,
    `The rest goes at ${describeInZone(continuesAt, ctx.config.ORG_TIME_ZONE)} unless it is halted. If anything is wrong, halt it now: ${campaignUrl(ctx, campaign)}`,
  ]);
}

export async function tellSent(ctx: AppContext, campaign: CampaignRow, deliveries: DeliveryCounts): Promise<void> {
  const what = campaign.kind === 'correction' ? 'The correction' : 'The campaign';
  await tell(ctx, [await authorOf(ctx, campaign)], `${campaign.kind === 'correction' ? 'Correction sent' : 'Sent'}: ${campaign.subject}`, [
    `${what} "${campaign.subject}" has been sent: ${counted(deliveries)}.`,
    `The ledger, recipient by recipient: ${campaignUrl(ctx, campaign)}`,
  ]);
}

/** A halt by a person: its author hears of it unless they made it. Countersign's own halts go to everyone responsible. */
export async function tellHalted(
  ctx: AppContext,
  campaign: CampaignRow,
  by: string,
  reason: string,
  report: { inFlight: number; stopped: number },
): Promise<void> {
  const automatic = by === 'system';
  const author = await authorOf(ctx, campaign);
  const to = automatic ? [author, ...(await usersWithRole(ctx.db, 'approver')).map((a) => a.email)] : author === by ? [] : [author];
  await tell(ctx, to, `${automatic ? 'Halted automatically' : 'Halted'}: ${campaign.subject}`, [
    automatic
      ? `Countersign halted the campaign "${campaign.subject}" by itself: ${reason}.`
      : `${by} halted "${campaign.subject}": ${reason}.`,
    `${report.stopped} deliveries were stopped; ${report.inFlight} were already in flight.\nIt sends again only after it is submitted and approved again.`,
    campaignUrl(ctx, campaign),
  ]);
}
