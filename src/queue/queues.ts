import { Queue } from 'bullmq';
import type { RedisClient } from './connection.js';
import { QUEUE_NAMES } from './jobs.js';

export interface Queues {
  dispatch: Queue;
  deliver: Queue;
  notify: Queue;
  /** Retractions: slow mailbox work kept apart from starts and deliveries. */
  retract: Queue;
  redis: RedisClient;
  prefix: string;
  close(): Promise<void>;
}

export function createQueues(redis: RedisClient, prefix: string): Queues {
  const common = { connection: redis, prefix };
  const dispatch = new Queue(QUEUE_NAMES.dispatch, {
    ...common,
    defaultJobOptions: { attempts: 10, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 },
  });
  const deliver = new Queue(QUEUE_NAMES.deliver, {
    ...common,
    // A failed window is re-fed by the sweep from the ledger, so failed jobs need not linger.
    defaultJobOptions: { attempts: 8, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: true },
  });
  const notify = new Queue(QUEUE_NAMES.notify, {
    ...common,
    // No payload holds a one-time link (sign-in and approval links are minted as they are sent), so
    // the last failed jobs can stay for diagnosis without a usable token in Redis.
    defaultJobOptions: { attempts: 8, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: 100 },
  });
  const retract = new Queue(QUEUE_NAMES.retract, {
    ...common,
    // The database is the record: the sweep puts a lost or failed job back. Its data is ids only, so
    // the last failed jobs stay for the admin queue view.
    defaultJobOptions: { attempts: 5, backoff: { type: 'exponential', delay: 2000 }, removeOnComplete: true, removeOnFail: 100 },
  });
  return {
    dispatch,
    retract,
    deliver,
    notify,
    redis,
    prefix,
    close: async () => {
      await Promise.all([dispatch.close(), deliver.close(), notify.close(), retract.close()]);
    },
  };
}
