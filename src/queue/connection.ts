import { Redis, type RedisOptions } from 'ioredis';

/** BullMQ needs `maxRetriesPerRequest: null` on connections its workers block on. */
export function createRedis(target: string | { path: string }, extra: RedisOptions = {}): Redis {
  const options: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra };
  return typeof target === 'string' ? new Redis(target, options) : new Redis({ ...options, path: target.path });
}

/** Resolves when Redis answers a PING, or rejects after `timeoutMs`. */
export async function redisAnswers(target: string | { path: string }, timeoutMs = 1500): Promise<boolean> {
  const probe = createRedis(target, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  probe.on('error', () => {});
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}
