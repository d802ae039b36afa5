import type { RedisClient } from './connection.js';

// Generic cell rate algorithm: one key in Redis holds the time the next slot
// frees, so every worker process of every machine draws from the same budget.
// Callers name the key under the queue prefix, so under a Cluster it shares the queues' slot.
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local nextTat = tat + n * interval
redis.call('SET', KEYS[1], tostring(nextTat), 'PX', math.ceil(nextTat - now) + 1000)
return tat - now
`;

export class GlobalRateLimiter {
  readonly #intervalMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    perSecond: number,
  ) {
    this.#intervalMs = 1000 / perSecond;
  }

  /** Reserves `n` sends and waits until they are due. */
  async take(n: number): Promise<void> {
    const waitMs = Number(await this.redis.eval(RESERVE, 1, this.key, String(this.#intervalMs), String(n)));
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
