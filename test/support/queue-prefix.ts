import { primaries, type RedisClient } from '../../src/queue/connection.js';

/**
 * Deletes every key under a BullMQ prefix, so test files and benchmark runs never see each other's
 * queues. Under a Cluster each master holds its own slots, so each is scanned.
 */
export async function dropQueuePrefix(redis: RedisClient, prefix: string): Promise<void> {
  for (const node of primaries(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // Under a Cluster the prefix is a hash tag, so the keys of one DEL share a slot.
      if (keys.length) await node.del(...keys);
    } while (cursor !== '0');
  }
}
