import { redactLinks } from '../domain/redaction.js';
import type { AppContext } from './context.js';

export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;
type QueueState = (typeof QUEUE_STATES)[number];

export interface QueueHealth {
  name: string;
  counts: Record<QueueState, number>;
  oldestWaitingSeconds: number;
}

export interface FailedJob {
  queue: string;
  id: string;
  name: string;
  reason: string;
  attempts: number;
  failedAt: Date | null;
}

const queuesOf = (ctx: Pick<AppContext, 'queues'>) => [ctx.queues.dispatch, ctx.queues.deliver, ctx.queues.notify, ctx.queues.retract];

/** Per queue: its jobs by state, and how long the oldest waiting one has waited. */
export function queueHealth(ctx: Pick<AppContext, 'queues'>, now = Date.now()): Promise<QueueHealth[]> {
  return Promise.all(
    queuesOf(ctx).map(async (queue) => {
      const counts = (await queue.getJobCounts(...QUEUE_STATES)) as Record<QueueState, number>;
      const oldest = (await queue.getJobs(['waiting', 'prioritized'], 0, 0, true)).filter(Boolean);
      const since = oldest.length ? Math.min(...oldest.map((job) => job.timestamp)) : null;
      return { name: queue.name, counts, oldestWaitingSeconds: since === null ? 0 : Math.max(0, (now - since) / 1000) };
    }),
  );
}

/**
 * The newest failed jobs of every queue, with why they failed. Never their data: a job's data may
 * name recipients, and its reason is shown with any approval or sign-in link redacted.
 */
export async function recentFailures(ctx: Pick<AppContext, 'queues'>, perQueue = 20): Promise<FailedJob[]> {
  const failed = await Promise.all(
    queuesOf(ctx).map(async (queue) =>
      (await queue.getJobs(['failed'], 0, perQueue - 1)).filter(Boolean).map((job) => ({
        queue: queue.name,
        id: String(job.id),
        name: job.name,
        reason: redactLinks(job.failedReason ?? ''),
        attempts: job.attemptsMade,
        failedAt: job.finishedOn ? new Date(job.finishedOn) : null,
      })),
    ),
  );
  return failed.flat().sort((a, b) => (b.failedAt?.getTime() ?? 0) - (a.failedAt?.getTime() ?? 0));
}
