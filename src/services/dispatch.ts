import { escapeHtml } from '../domain/merge-fields.js';
import type { CampaignRow } from '../db/schema.js';
import {
  deliverJobId,
  retractJobId,
  startJobId,
  type ClearHaltJob,
  type RetractJob,
  type ContinueJob,
  type DeliverJob,
  type NotifyJob,
  type StartJob,
} from '../queue/jobs.js';
import type { AppContext } from './context.js';

/**
 * Everything that puts work on the queues. Feature services call these after their
 * transaction commits; the database stays the record, so a lost job is repaired by the sweep.
 */

const POLICY_PRIORITY = 10;

/** The start of a scheduled campaign as a delayed job; the time itself lives in the database. */
export async function scheduleStart(ctx: AppContext, campaign: CampaignRow): Promise<void> {
  const delay = Math.max(0, campaign.scheduled_for!.getTime() - ctx.now().getTime());
  const data: StartJob = { campaignId: campaign.id, contentHash: campaign.content_hash! };
  await ctx.queues.dispatch.add('start', data, { jobId: startJobId(campaign.id, campaign.content_hash!), delay });
}

/** A start that ran early (its campaign's time moved later) waits again, without the unique id it already used. */
export async function retryStartAt(ctx: AppContext, job: StartJob, at: Date): Promise<void> {
  await ctx.queues.dispatch.add('start', job, { delay: Math.max(0, at.getTime() - ctx.now().getTime()) });
}

export async function cancelStartJob(ctx: AppContext, campaignId: string, contentHash: string): Promise<void> {
  // The job would find the campaign no longer scheduled and do nothing; removing it keeps Redis tidy.
  await ctx.queues.dispatch.remove(startJobId(campaignId, contentHash)).catch(() => 0);
}

/** For the sweep: puts back a scheduled campaign's start job if Redis lost it or it failed. True when it had to. */
export async function ensureStartJob(ctx: AppContext, campaign: CampaignRow): Promise<boolean> {
  const job = await ctx.queues.dispatch.getJob(startJobId(campaign.id, campaign.content_hash!));
  if (!job) {
    await scheduleStart(ctx, campaign);
    return true;
  }
  if (await job.isFailed()) {
    await job.retry();
    return true;
  }
  return false;
}

/** Delivery windows of `DELIVERY_BATCH_SIZE` seqs over [fromSeq, toSeq]. */
export async function queueWindows(
  ctx: AppContext,
  campaign: CampaignRow,
  contentHash: string,
  fromSeq: number,
  toSeq: number,
): Promise<void> {
  const size = ctx.config.DELIVERY_BATCH_SIZE;
  const windows = [];
  for (let from = fromSeq; from <= toSeq; from += size) windows.push({ fromSeq: from, toSeq: Math.min(toSeq, from + size - 1) });
  await queueWindowsOf(ctx, campaign, contentHash, windows);
}

/** Windows of one campaign, in one call to Redis: a window whose job exists already keeps it (same job id). */
export async function queueWindowsOf(
  ctx: AppContext,
  campaign: CampaignRow,
  contentHash: string,
  windows: { fromSeq: number; toSeq: number }[],
): Promise<void> {
  if (windows.length === 0) return;
  // Corrections jump the queue: BullMQ takes unprioritised jobs before prioritised ones.
  const priority = campaign.kind === 'correction' ? undefined : POLICY_PRIORITY;
  const jobs = windows.map((window) => {
    const data: DeliverJob = { campaignId: campaign.id, contentHash, ...window };
    return { name: 'deliver', data, opts: { jobId: deliverJobId(campaign.id, contentHash, window.fromSeq), priority } };
  });
  await ctx.queues.deliver.addBulk(jobs);
}

/** A correction's late recipients as one window of their own. */
export async function queueLateWindow(ctx: AppContext, correction: CampaignRow, window: { fromSeq: number; toSeq: number }): Promise<void> {
  const data: DeliverJob = { campaignId: correction.id, contentHash: correction.content_hash!, ...window };
  await ctx.queues.deliver.add('deliver', data, { jobId: deliverJobId(correction.id, correction.content_hash!, window.fromSeq) });
}

/** A worker rewrites a halted campaign's rows; the sweep does it for a campaign whose job was lost. */
export async function queueHaltClearing(ctx: AppContext, campaignId: string): Promise<void> {
  const data: ClearHaltJob = { campaignId };
  await ctx.queues.dispatch.add('clear-halt', data, { jobId: `clear-halt-${campaignId}-${Date.now()}` });
}

/** The rest of a campaign after its first wave, once the pause is over (the sweep repeats it if the job is lost). */
export async function queueContinue(ctx: AppContext, campaignId: string, at: Date): Promise<void> {
  const data: ContinueJob = { campaignId };
  await ctx.queues.dispatch.add('continue', data, {
    jobId: `continue-${campaignId}-${at.getTime()}`,
    delay: Math.max(0, at.getTime() - ctx.now().getTime()),
  });
}

/** A retraction's dry run or run; one job per phase at a time (the id), which the sweep puts back if lost. */
export async function queueRetraction(ctx: AppContext, job: RetractJob): Promise<void> {
  await ctx.queues.retract.add(job.phase, job, { jobId: retractJobId(job) });
}

/** For the sweep: true when the phase's job was missing or failed and is queued again. */
export async function ensureRetractionJob(ctx: AppContext, job: RetractJob): Promise<boolean> {
  const existing = await ctx.queues.retract.getJob(retractJobId(job));
  if (existing && !(await existing.isFailed()) && !(await existing.isCompleted())) return false;
  await existing?.remove();
  await queueRetraction(ctx, job);
  return true;
}

/** Staff email (approval requests, sign-in links, halt notices), sent by the notify worker. */
export async function queueNotifications(ctx: AppContext, notifications: NotifyJob[]): Promise<void> {
  if (notifications.length === 0) return;
  await ctx.queues.notify.addBulk(notifications.map((data) => ({ name: 'notify', data })));
}

/** A plain-text notice to several people, shown as preformatted text in the HTML part too. */
export async function queuePlainNotices(
  ctx: AppContext,
  to: readonly (string | undefined)[],
  subject: string,
  text: string,
): Promise<void> {
  const recipients = [...new Set(to.filter((e): e is string => Boolean(e)))];
  const html = `<pre style="font:inherit;white-space:pre-wrap">${escapeHtml(text)}</pre>`;
  await queueNotifications(
    ctx,
    recipients.map((address) => ({ to: address, subject, text, html })),
  );
}
