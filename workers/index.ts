import { Worker, type Job, type Processor } from 'bullmq';
import { clearHaltJob, continueJob, deliverJob, notifyJob, QUEUE_NAMES, retractJob, startJob } from '../src/queue/jobs.js';
import { continueCampaign } from '../src/services/first-wave.js';
import { checkpointsConfigured, startAuditCheckpoints } from '../src/services/audit-checkpoints.js';
import { clearHaltedRows } from '../src/services/halt.js';
import { silentLogger, type Logger } from '../src/logger.js';
import type { AppContext } from '../src/services/context.js';
import { deliverNotification } from '../src/services/notifications.js';
import { sweep } from '../src/services/repair.js';
import { retractionStep } from '../src/services/retraction.js';
import { deliverWindow, deliveryTools, startCampaign } from '../src/services/sending.js';

export interface Workers {
  workers: Worker[];
  close(timeoutMs?: number): Promise<void>;
}

/** The worker side: thin doors from BullMQ jobs into the sending services. */
export function startWorkers(ctx: AppContext, logger: Logger = silentLogger): Workers {
  const { config, queues } = ctx;
  // A job of a process that died is taken back once its lock lapses, at the next stalled check.
  // A job may stall many times (a busy event loop, a restart) without being dropped: its rows stay
  // in the ledger, and the sweep re-feeds any window that no live job holds.
  const common = {
    connection: queues.redis,
    prefix: queues.prefix,
    lockDuration: config.WORKER_LOCK_MS,
    stalledInterval: Math.ceil(config.WORKER_LOCK_MS / 2),
    maxStalledCount: 10,
  };
  // Aborted by close(): running jobs finish what is under way and hand the rest back, so a
  // stop takes seconds and leaves no message `sending` behind.
  const stopping = new AbortController();
  const tools = deliveryTools(ctx, stopping.signal);
  const traced =
    <T>(name: string, processor: Processor<T>): Processor<T> =>
    async (job: Job<T>) => {
      try {
        return await processor(job);
      } catch (error) {
        const campaignId = (job.data as { campaignId?: unknown } | null)?.campaignId;
        logger[stopping.signal.aborted ? 'info' : 'warn'](
          {
            queue: name,
            jobId: job.id,
            campaignId: typeof campaignId === 'string' ? campaignId : undefined,
            attempt: job.attemptsMade + 1,
            err: error,
          },
          stopping.signal.aborted ? 'job handed back: the worker is stopping' : 'job failed',
        );
        throw error;
      }
    };
  const workers = [
    new Worker(
      QUEUE_NAMES.dispatch,
      traced('dispatch', (job) => {
        if (job.name === 'clear-halt') return clearHaltedRows(ctx, clearHaltJob.parse(job.data).campaignId, stopping.signal);
        if (job.name === 'continue') return continueCampaign(ctx, continueJob.parse(job.data).campaignId);
        return startCampaign(ctx, startJob.parse(job.data));
      }),
      { ...common, concurrency: 2 },
    ),
    new Worker(
      QUEUE_NAMES.deliver,
      traced('deliver', (job) => deliverWindow(ctx, tools, deliverJob.parse(job.data))),
      {
        ...common,
        concurrency: config.WORKER_CONCURRENCY,
      },
    ),
    new Worker(
      QUEUE_NAMES.notify,
      traced('notify', (job) => deliverNotification(ctx, notifyJob.parse(job.data))),
      { ...common, concurrency: 2 },
    ),
    // Each job works RETRACT_CONCURRENCY mailboxes at once; two retractions may run side by side.
    new Worker(
      QUEUE_NAMES.retract,
      traced('retract', (job) => retractionStep(ctx, retractJob.parse(job.data))),
      { ...common, concurrency: 2 },
    ),
  ];
  for (const worker of workers) worker.on('error', (error) => logger.error({ err: error }, 'worker error'));

  // One sweep at a time: a long one (a million halted rows to rewrite) is not joined by the next.
  let sweeping: Promise<void> | null = null;
  const timer =
    config.SWEEP_INTERVAL_MS > 0
      ? setInterval(() => {
          sweeping ??= sweep(ctx, stopping.signal)
            .then(
              () => {},
              (error: Error) => {
                if (!stopping.signal.aborted) logger.error({ err: error }, 'sweep failed');
              },
            )
            .finally(() => (sweeping = null));
        }, config.SWEEP_INTERVAL_MS)
      : undefined;

  const checkpoints = checkpointsConfigured(config) ? startAuditCheckpoints(ctx, (line) => logger.warn(line)) : undefined;

  return {
    workers,
    // worker.close() waits for running jobs without limit; past the bound, force it.
    close: async (timeoutMs = 10_000) => {
      stopping.abort();
      clearInterval(timer);
      await sweeping;
      await checkpoints?.close();
      await Promise.all(
        workers.map(async (worker) => {
          let timeout: NodeJS.Timeout | undefined;
          const forced = new Promise<void>((resolve) => {
            timeout = setTimeout(() => void worker.close(true).then(resolve), timeoutMs);
          });
          await Promise.race([worker.close(), forced]);
          clearTimeout(timeout);
        }),
      );
    },
  };
}
