import type { Redis } from 'ioredis';

/** Deletes every key under a BullMQ prefix, so test files and benchmark runs never see each other's queues. */
export async function dropQueuePrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}
