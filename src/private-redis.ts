import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { redisAnswers, type RedisTarget } from './queue/connection.js';

export class RedisUnavailableError extends Error {}

/**
 * For `npm start` on a laptop: when nothing answers at REDIS_URL, run a private
 * redis-server on a socket under the data folder, for this process's lifetime.
 */
export async function ensureRedis(
  redisUrl: string,
  dataDir: string,
  allowPrivate: boolean,
  log: (line: string) => void,
): Promise<RedisTarget> {
  if (await redisAnswers(redisUrl)) return { kind: 'url', url: redisUrl };
  const hasServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
  if (!allowPrivate || !hasServer) {
    throw new RedisUnavailableError(
      `No Redis answers at ${redisUrl}. Start one there, set REDIS_URL, or install redis-server ` +
        '(Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) so Countersign can start a private one.',
    );
  }
  const dir = path.resolve(dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'redis.sock');
  const child = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--unixsocket',
      socket,
      '--unixsocketperm',
      '700',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
    ],
    { stdio: 'ignore' },
  );
  process.once('exit', () => child.kill());
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await redisAnswers({ path: socket }, 200)) {
      log(`No Redis at ${redisUrl}: started a private redis-server (pid ${child.pid}) on ${socket}`);
      return { kind: 'socket', path: socket };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new RedisUnavailableError(`started redis-server under ${dir} but it did not answer`);
}
