import { beginDeliveries, recordResults, type DeliveryResult } from '../db/deliveries.js';
import type { AppContext } from './context.js';
import { messagesSent } from './metrics.js';

/**
 * Group commit: what callers hand in while a write is running goes into the next write, so
 * each message's step reaches the database at once when it is quiet and in batches when it
 * is busy, with no timer adding delay.
 */
class GroupCommit<T, R> {
  #pending: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  #writing = false;

  constructor(private readonly write: (items: T[]) => Promise<R[]>) {}

  submit(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#pending.length) {
        const batch = this.#pending.splice(0);
        try {
          const results = await this.write(batch.map((b) => b.item));
          batch.forEach((b, i) => b.resolve(results[i]!));
        } catch (error) {
          for (const b of batch) b.reject(error);
        }
      }
    } finally {
      this.#writing = false;
    }
  }
}

interface Start {
  campaignId: string;
  contentHash: string;
  seq: number;
  token: string;
}

/** Groups items by a key, writes each group once, and answers each item in its own order. */
async function perGroup<T, R>(items: T[], keyOf: (item: T) => string, write: (group: T[]) => Promise<R[]>): Promise<R[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => groups.set(keyOf(item), [...(groups.get(keyOf(item)) ?? []), i]));
  const results: R[] = new Array(items.length);
  for (const indexes of groups.values()) {
    const written = await write(indexes.map((i) => items[i]!));
    indexes.forEach((itemIndex, k) => (results[itemIndex] = written[k]!));
  }
  return results;
}

/**
 * A worker process's writes to the ledger as each message goes: the start of its SMTP
 * transaction (conditional on the campaign still sending, so nothing starts after a halt) and
 * its outcome as soon as the server answers, so `sent` means the server accepted it.
 */
export class LedgerWriter {
  readonly #starts: GroupCommit<Start, number | null>;
  readonly #results: GroupCommit<{ campaignId: string; result: DeliveryResult }, null>;

  constructor(ctx: Pick<AppContext, 'db'>) {
    this.#starts = new GroupCommit((items) =>
      perGroup(
        items,
        (s) => `${s.campaignId} ${s.contentHash}`,
        async (group) => {
          const started = new Map(
            (await beginDeliveries(ctx.db, group[0]!.campaignId, group[0]!.contentHash, group)).map((r) => [r.seq, r.attempts]),
          );
          return group.map((s) => started.get(s.seq) ?? null);
        },
      ),
    );
    this.#results = new GroupCommit((items) =>
      perGroup(
        items,
        (r) => r.campaignId,
        async (group) => {
          await recordResults(
            ctx.db,
            group[0]!.campaignId,
            group.map((g) => g.result),
          );
          return group.map(() => null);
        },
      ),
    );
  }

  /** Marks a reserved row `sending`; answers the attempt it is now on, or null when it must not start. */
  start(campaignId: string, contentHash: string, seq: number, token: string): Promise<number | null> {
    return this.#starts.submit({ campaignId, contentHash, seq, token });
  }

  async record(campaignId: string, result: DeliveryResult): Promise<void> {
    await this.#results.submit({ campaignId, result });
    messagesSent.inc({ outcome: result.status === 'queued' ? 'retry' : result.status });
  }
}
