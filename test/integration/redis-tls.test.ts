import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../src/queue/connection.js';
import { Harness, testDb } from '../support/harness.js';
import {
  OPENSSL_MISSING,
  opensslInstalled,
  RedisCluster,
  RedisSentinels,
  REDIS_SERVER_MISSING,
  redisServerInstalled,
} from '../support/redis-topologies.js';

const runnable = redisServerInstalled && opensslInstalled;
if (!runnable)
  console.warn(`skipping test/integration/redis-tls.test.ts: ${redisServerInstalled ? OPENSSL_MISSING : REDIS_SERVER_MISSING}`);

const MASTER_NAME = 'countersign-tls';
const PASSWORD = 'node-secret';
const SENTINEL_PASSWORD = 'sentinel-secret';

// Redis's topology is under test, not the database: PostgreSQL alone is enough.
describe.skipIf(!runnable || testDb() !== 'postgres')('Countersign on Redis Sentinel over TLS only', () => {
  let redis: RedisSentinels;
  let h: Harness;

  beforeAll(async () => {
    redis = await RedisSentinels.start(MASTER_NAME, PASSWORD, SENTINEL_PASSWORD, { tls: true });
    h = await Harness.start({
      env: {
        REDIS_URL: '',
        REDIS_SENTINELS: redis.sentinelList,
        REDIS_SENTINEL_NAME: MASTER_NAME,
        REDIS_PASSWORD: PASSWORD,
        REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
        REDIS_TLS: 'true',
        // The test's own CA: the servers' certificate is checked against it, for 127.0.0.1.
        REDIS_TLS_CA: redis.tls!.ca,
      },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(async () => {
    await h?.stop();
    await redis?.stop();
  });

  it('reaches the sentinels and the master over TLS, trusting the given CA, and sends a campaign once to each recipient', async () => {
    expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
    await h.sendsOnceToEach('Over TLS', 'tls');
  });

  it("checks the servers' certificate: without the CA that signed it, no connection is made", async () => {
    if (h.config.REDIS.kind !== 'sentinel') throw new Error('expected the sentinel target');
    const { caFile: _, ...untrusting } = h.config.REDIS.tls!;
    const client = createRedis({ ...h.config.REDIS, tls: untrusting });
    try {
      const refused = await new Promise<Error>((resolve) => client.once('error', resolve));
      // The same sentinels that answer with the CA: the handshake is refused (ioredis hides why).
      expect(refused.message).toMatch(/^All sentinels are unreachable/);
    } finally {
      client.disconnect();
    }
  });
});

describe.skipIf(!runnable || testDb() !== 'postgres')('Countersign on a Redis Cluster over TLS only', () => {
  let cluster: RedisCluster;
  let h: Harness;

  beforeAll(async () => {
    cluster = await RedisCluster.start(PASSWORD, { replicas: false, tls: true });
    h = await Harness.start({
      env: {
        REDIS_URL: '',
        REDIS_CLUSTER_NODES: `127.0.0.1:${cluster.ports[0]}`,
        REDIS_PASSWORD: PASSWORD,
        QUEUE_PREFIX: '{cst-tls}',
        REDIS_TLS: 'true',
        REDIS_TLS_CA: cluster.tls!.ca,
      },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(async () => {
    await h?.stop();
    await cluster?.stop();
  });

  it('reaches every master over TLS and sends a campaign once to each recipient', async () => {
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect((await ready.json()).checks.redis).toEqual({ ok: true, detail: 'reachable, maxmemory-policy noeviction on all 3 masters' });
    await h.sendsOnceToEach('Over TLS on the cluster', 'ctls');
  });
});
