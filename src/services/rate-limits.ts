import type { AppContext } from './context.js';

/**
 * Counts one more use of `key` within a window of `windowSeconds`, in Redis so that every process
 * shares it; true when the count is now over `limit`.
 */
export async function overLimit(ctx: Pick<AppContext, 'queues'>, key: string, limit: number, windowSeconds: number): Promise<boolean> {
  const redisKey = `${ctx.queues.prefix}:limit:${key}`;
  const count = await ctx.queues.redis.incr(redisKey);
  if (count === 1) await ctx.queues.redis.expire(redisKey, windowSeconds);
  return count > limit;
}
