import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, people, testDb } from '../support/harness.js';
import { Processes } from '../support/processes.js';
import { RedisSentinels, REDIS_SERVER_MISSING, redisServerInstalled } from '../support/redis-topologies.js';

if (!redisServerInstalled) console.warn(`skipping test/integration/redis-sentinel.test.ts: ${REDIS_SERVER_MISSING}`);

const MASTER_NAME = 'countersign-test';
const PASSWORD = 'node-secret';
const SENTINEL_PASSWORD = 'sentinel-secret';

// Redis's topology is under test, not the database: PostgreSQL alone is enough.
describe.skipIf(!redisServerInstalled || testDb() !== 'postgres')(
  'Countersign on a Redis master and replica watched by two sentinels',
  () => {
    let redis: RedisSentinels;
    let h: Harness;

    beforeAll(async () => {
      redis = await RedisSentinels.start(MASTER_NAME, PASSWORD, SENTINEL_PASSWORD);
      h = await Harness.start({
        env: {
          REDIS_URL: '',
          REDIS_SENTINELS: redis.sentinelList,
          REDIS_SENTINEL_NAME: MASTER_NAME,
          REDIS_PASSWORD: PASSWORD,
          REDIS_SENTINEL_PASSWORD: SENTINEL_PASSWORD,
          // Slow enough that a failover lands mid-send.
          SEND_RATE_PER_SECOND: '25',
          DELIVERY_BATCH_SIZE: '10',
          // Should Redis lose a job in the switch, the sweep puts its window back from the ledger.
          SWEEP_INTERVAL_MS: '1000',
          STALE_SENDING_SECONDS: '10',
        },
      });
      await h.addAuthorAndApprovers();
    });
    afterAll(async () => {
      await h?.stop();
      await redis?.stop();
    });

    it('finds the master through the sentinels, is ready, and sends a campaign once to each recipient', async () => {
      const ready = await fetch(`${h.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect((await ready.json()).checks.redis).toEqual({ ok: true, detail: 'reachable, maxmemory-policy noeviction' });

      await h.sendsOnceToEach('Through the sentinels', 'sentinel');
    });

    it('neither loses nor duplicates a message when the master fails over to the replica mid-send', async () => {
      const recipients = people(100, 'failover');
      const subject = 'Sent across a failover';
      const { id } = await h.approvedCampaign({ subject, recipients });
      await h.sink.waitUntil(() => h.sink.withSubject(subject).length >= 20, 30_000, 'the first 20 messages');

      const sentinel = redis.sentinel(SENTINEL_PASSWORD);
      const events = sentinel.duplicate();
      try {
        const switched = new Promise<string>((resolve) => events.on('message', (_channel, message: string) => resolve(message)));
        await events.subscribe('+switch-master');
        expect(await sentinel.call('SENTINEL', 'FAILOVER', MASTER_NAME)).toBe('OK');
        // "<name> <old ip> <old port> <new ip> <new port>"
        expect(await switched).toBe(`${MASTER_NAME} 127.0.0.1 ${redis.masterPort} 127.0.0.1 ${redis.replicaPort}`);
        // The switch came mid-send (here 40 to 50 of the 100 had gone).
        expect(h.sink.withSubject(subject).length).toBeLessThan(recipients.length);

        await h.waitForStatus(id, 'sent', 45_000);
        expect(h.sink.withSubject(subject)).toHaveLength(recipients.length);
        h.expectEachReceivedOnce(recipients);

        // The app's connection follows the switch: it now talks to the promoted replica, and is ready there.
        expect(await h.ctx.queues.redis.config('GET', 'port')).toEqual(['port', String(redis.replicaPort)]);
        const ready = await fetch(`${h.baseUrl}/readyz`);
        expect(ready.status).toBe(200);
      } finally {
        events.disconnect();
        sentinel.disconnect();
      }
    });

    // Separate processes share one database only on PostgreSQL.
    it('runs as a separate worker process configured only by the environment', async () => {
      await h.workers!.close();
      h.workers = undefined;
      const processes = new Processes();
      try {
        const worker = await processes.start('workers', h.processEnv('sentinel-worker'));
        expect(worker.output()).toContain(
          `redis: master group ${MASTER_NAME} through sentinels ${redis.sentinelList.replaceAll(',', ', ')}`,
        );
        await h.sendsOnceToEach('From a worker process', 'process');
        expect(await worker.stop()).toBe(0);
      } finally {
        await processes.stopAll();
      }
    });
  },
);
