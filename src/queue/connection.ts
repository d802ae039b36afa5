import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export interface HostPort {
  host: string;
  port: number;
}

/** Node credentials and TLS in Sentinel and Cluster mode; a single endpoint carries them in its URL. */
interface NodeAuth {
  username?: string;
  password?: string;
  /** TLS to every node (and sentinel), trusting `caFile` (PEM) or else Node's default CAs. */
  tls?: { caFile?: string };
}

/** Where Redis is: one endpoint (URL or a private server's socket), a Sentinel-watched primary, or a Cluster. */
export type RedisTarget =
  | { kind: 'url'; url: string }
  | { kind: 'socket'; path: string }
  | ({ kind: 'sentinel'; sentinels: HostPort[]; name: string; sentinelPassword?: string } & NodeAuth)
  | ({ kind: 'cluster'; nodes: HostPort[] } & NodeAuth);

/** A connection to any of them: BullMQ takes either as its connection, and duplicates it for blocking reads. */
export type RedisClient = Redis | Cluster;

/** BullMQ needs `maxRetriesPerRequest: null` on connections its workers block on. */
const BULLMQ_OPTIONS: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true };

/**
 * A write sent to a primary that Sentinel has just demoted answers READONLY: reconnect (through the
 * sentinels, to the new primary) and send the command again rather than fail it.
 */
const reconnectOnReadOnly = (error: Error): 2 | false => (error.message.startsWith('READONLY') ? 2 : false);

function tlsOptions(tls: NodeAuth['tls']): ConnectionOptions | undefined {
  if (!tls) return undefined;
  return tls.caFile ? { ca: readFileSync(tls.caFile) } : {};
}

export function createRedis(target: RedisTarget): RedisClient {
  switch (target.kind) {
    case 'url':
      return new Redis(target.url, BULLMQ_OPTIONS);
    case 'socket':
      return new Redis({ ...BULLMQ_OPTIONS, path: target.path });
    case 'sentinel': {
      const tls = tlsOptions(target.tls);
      return new Redis({
        ...BULLMQ_OPTIONS,
        sentinels: target.sentinels,
        name: target.name,
        username: target.username,
        password: target.password,
        sentinelPassword: target.sentinelPassword,
        // Told by the sentinels of a switch, rather than waiting for the old primary to drop the connection.
        failoverDetector: true,
        reconnectOnError: reconnectOnReadOnly,
        ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
      });
    }
    case 'cluster':
      // BullMQ reads the node options (`redisOptions`) for its maxRetriesPerRequest check.
      return new Cluster(target.nodes, {
        enableReadyCheck: true,
        redisOptions: { ...BULLMQ_OPTIONS, username: target.username, password: target.password, tls: tlsOptions(target.tls) },
      });
  }
}

/** The primaries: every master of a Cluster, or the one connection's server. */
export function primaries(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Resolves when the Redis at one endpoint answers a PING, or rejects after `timeoutMs`. */
export async function redisAnswers(target: string | { path: string }, timeoutMs = 1500): Promise<boolean> {
  const options: RedisOptions = { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs };
  const probe = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...options, path: target.path });
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
