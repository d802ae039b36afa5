import { describeInZone } from '../domain/time-zone.js';
import { linksDueForReminder, markReminded } from '../db/approvals.js';
import { findCampaign, pendingDueBefore, updateCampaignIf } from '../db/campaigns.js';
import { findUserById, usersWithRole } from '../db/users.js';
import { issueApprovalRequests } from './approval-links.js';
import { recordEvent } from './audit.js';
import { SYSTEM_ACTOR, type AppContext } from './context.js';
import { queuePlainNotices } from './dispatch.js';
import { quorumOf } from './quorum.js';

const HOUR = 3600_000;

/**
 * An approver who has not decided after APPROVAL_REMINDER_HOURS gets a reminder with a fresh link
 * (the first still works until it expires). Returns how many were reminded.
 */
export async function remindApprovers(ctx: AppContext): Promise<number> {
  const now = ctx.now();
  let reminded = 0;
  for (const due of await linksDueForReminder(ctx.db, new Date(now.getTime() - ctx.config.APPROVAL_REMINDER_HOURS * HOUR))) {
    const sent = await ctx.db.transaction().execute(async (trx) => {
      if (!(await markReminded(trx, due.link_id, now))) return null;
      const [campaign, approver] = await Promise.all([findCampaign(trx, due.campaign_id), findUserById(trx, due.approver_id)]);
      const author = campaign && (await findUserById(trx, campaign.author_id));
      if (!campaign || !approver || !author) return null;
      const requests = await issueApprovalRequests(ctx, trx, campaign, [approver], author, true);
      await recordEvent(trx, {
        actor: SYSTEM_ACTOR,
        action: 'approval.reminder',
        campaignId: campaign.id,
        data: { approver: approver.email },
        at: now,
      });
      return requests;
    });
    if (sent) {
      await sent.enqueue();
      reminded += 1;
    }
  }
  return reminded;
}

/** A campaign whose requested send time is APPROVAL_ESCALATION_HOURS away without a quorum: every admin is told, once. */
export async function escalateUnapproved(ctx: AppContext): Promise<number> {
  const now = ctx.now();
  const due = await pendingDueBefore(ctx.db, new Date(now.getTime() + ctx.config.APPROVAL_ESCALATION_HOURS * HOUR));
  const admins = due.length ? await usersWithRole(ctx.db, 'admin') : [];
  for (const campaign of due) {
    const marked = await ctx.db.transaction().execute(async (trx) => {
      const updated = await updateCampaignIf(trx, campaign.id, ['pending_approval'], { escalated_at: now });
      if (updated)
        await recordEvent(trx, {
          actor: SYSTEM_ACTOR,
          action: 'approval.escalated',
          campaignId: campaign.id,
          data: { sendAt: campaign.send_at!.toISOString() },
          at: now,
        });
      return updated;
    });
    if (!marked) continue;
    const quorum = await quorumOf(ctx.db, campaign);
    const text = [
      `"${campaign.subject}" is due to go at ${describeInZone(campaign.send_at!, ctx.config.ORG_TIME_ZONE)} and has ${quorum.approvedBy.length} of ${quorum.required} approvals.`,
      `It will not go out until it has them. Review who was asked: ${new URL(`/campaigns/${campaign.id}`, ctx.config.PUBLIC_URL)}`,
    ].join('\n\n');
    await queuePlainNotices(
      ctx,
      admins.map((admin) => admin.email),
      `Not yet approved, due soon: ${campaign.subject}`,
      text,
    );
  }
  return due.length;
}
