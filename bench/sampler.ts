import type { Redis } from 'ioredis';

/** Samples a figure every `intervalMs` until stopped; returns the highest value seen. */
export function samplePeak(read: () => number | Promise<number>, intervalMs = 100): { stop(): Promise<number> } {
  let peak = 0;
  let sampling: Promise<void> = Promise.resolve();
  const sample = () => {
    sampling = Promise.resolve(read()).then((value) => {
      peak = Math.max(peak, value);
    });
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    stop: async () => {
      clearInterval(timer);
      await sampling;
      sample();
      await sampling;
      return peak;
    },
  };
}

export const rssBytes = (): number => process.memoryUsage().rss;

/** Memory outside V8's heap: on PGlite, mostly the database's WebAssembly memory, which never shrinks. */
export const externalBytes = (): number => process.memoryUsage().external;

/** Redis's own figure for the memory its data uses (the server is shared: compare with the level before). */
export async function redisUsedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
}

export const megabytes = (bytes: number): number => bytes / (1024 * 1024);
