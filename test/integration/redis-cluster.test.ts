import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobId } from '../../src/queue/jobs.js';
import { sweep } from '../../src/services/repair.js';
import { Harness, people, testDb } from '../support/harness.js';
import { RedisCluster, REDIS_SERVER_MISSING, redisServerInstalled } from '../support/redis-topologies.js';

if (!redisServerInstalled) console.warn(`skipping test/integration/redis-cluster.test.ts: ${REDIS_SERVER_MISSING}`);

const PASSWORD = 'cluster-secret';
const RECIPIENTS = 40;
const METRICS_TOKEN = 'metrics-token-for-the-cluster';

// Redis's topology is under test, not the database: PostgreSQL alone is enough.
describe.skipIf(!redisServerInstalled || testDb() !== 'postgres')(
  'Countersign on a Redis Cluster of three masters, each with a replica',
  () => {
    let cluster: RedisCluster;
    let h: Harness;
    const prefix = `{cst-cluster-${randomBytes(4).toString('hex')}}`;
    const onEachMaster = async <T>(read: (node: Redis, port: number) => Promise<T>): Promise<T[]> =>
      Promise.all(
        cluster.ports.map(async (port) => {
          const node = new Redis({ port, password: PASSWORD });
          try {
            return await read(node, port);
          } finally {
            node.disconnect();
          }
        }),
      );

    beforeAll(async () => {
      cluster = await RedisCluster.start(PASSWORD);
      h = await Harness.start({
        env: {
          // One seed node: the client finds the other masters from it.
          REDIS_URL: '',
          REDIS_CLUSTER_NODES: `127.0.0.1:${cluster.ports[0]}`,
          REDIS_PASSWORD: PASSWORD,
          QUEUE_PREFIX: prefix,
          METRICS_TOKEN,
          // Slow enough that a failover lands mid-send.
          SEND_RATE_PER_SECOND: '50',
          DELIVERY_BATCH_SIZE: '10',
        },
      });
      await h.addAuthorAndApprovers();
    });
    afterAll(async () => {
      await h?.stop();
      await cluster?.stop();
    });

    it('is ready only while every master has maxmemory-policy noeviction, and names the one that has not', async () => {
      const ready = await fetch(`${h.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect((await ready.json()).checks.redis).toEqual({ ok: true, detail: 'reachable, maxmemory-policy noeviction on all 3 masters' });

      const port = cluster.ports[2]!;
      await onEachMaster((node, p) => (p === port ? node.config('SET', 'maxmemory-policy', 'allkeys-lru') : Promise.resolve('OK')));
      try {
        const unready = await fetch(`${h.baseUrl}/readyz`);
        expect(unready.status).toBe(503);
        expect((await unready.json()).checks.redis.detail).toBe(
          `maxmemory-policy is allkeys-lru on 127.0.0.1:${port}; BullMQ needs noeviction, or Redis may drop queued jobs`,
        );
      } finally {
        await onEachMaster((node, p) => (p === port ? node.config('SET', 'maxmemory-policy', 'noeviction') : Promise.resolve('OK')));
      }
    });

    it('signs a person in, and sends an approved campaign once to each recipient, every key in the one slot of its hash tag', async () => {
      // The sign-in email goes through the notify queue, its request limit through a MULTI on one key.
      const alice = await h.signIn('alice');
      expect((await alice.get('/')).status).toBe(200);

      const recipients = people(RECIPIENTS, 'cluster');
      const { id, status } = await h.approvedCampaign({ subject: 'On the cluster', body: 'Hello {{firstName}}', recipients });
      expect(status).toBe('scheduled');
      await h.waitForStatus(id, 'sent');

      const received = h.sink.withSubject('On the cluster');
      expect(received).toHaveLength(RECIPIENTS);
      for (const person of recipients) {
        const mine = h.sink.to(person.email).filter((m) => m.parsed.subject === 'On the cluster');
        expect(mine, person.email).toHaveLength(1);
        expect(mine[0]!.parsed.text).toContain(`Hello ${person.name.split(' ')[0]}`);
      }

      // Every key of the deployment (queues, rate limits, sign-in counters) sits on one master, in one slot.
      const keysPerMaster = await onEachMaster(async (node) => {
        const keys: string[] = [];
        let cursor = '0';
        do {
          const [next, batch] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
          cursor = next;
          keys.push(...batch);
        } while (cursor !== '0');
        return { keys, slots: new Set(await Promise.all(keys.map((key) => node.cluster('KEYSLOT', key)))) };
      });
      const holding = keysPerMaster.filter((m) => m.keys.length > 0);
      expect(holding).toHaveLength(1);
      expect([...holding[0]!.slots]).toHaveLength(1);
      expect(holding[0]!.keys.some((key) => key.startsWith(`${prefix}:deliver:`))).toBe(true);
      expect(holding[0]!.keys.some((key) => key.startsWith(`${prefix}:signin:`))).toBe(true);
    });

    it('halts a send mid-way, and reads every queue for the metrics', async () => {
      const total = 200;
      const subject = 'Halted on the cluster';
      const { id } = await h.approvedCampaign({ subject, recipients: people(total, 'halt') });
      await h.sink.waitUntil(() => h.sink.withSubject(subject).length >= 20, 30_000, 'the first 20 messages');
      const halt = await h.haltAndSettle('alice', id, 'wrong list', () => h.sink.withSubject(subject).length);
      expect(halt.stopped).toBeGreaterThan(0);
      expect(halt.campaign.status).toBe('halted');
      expect(halt.arrivedAfter).toBeLessThanOrEqual(halt.inFlight);
      expect(halt.campaign.deliveries.sent + halt.campaign.deliveries.halted).toBe(total);
      expect(h.sink.withSubject(subject)).toHaveLength(halt.campaign.deliveries.sent);

      const metrics = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      for (const queue of ['dispatch', 'deliver', 'notify', 'retract']) {
        expect(text).toMatch(new RegExp(`countersign_queue_jobs\\{queue="${queue}",state="waiting"\\} \\d+`));
      }
    });

    it('puts back, in the sweep, a start job the Cluster lost', async () => {
      const sendAt = new Date(Date.now() + 3_600_000).toISOString();
      const { id, contentHash, status } = await h.approvedCampaign({ subject: 'Later', recipients: people(3, 'later'), sendAt });
      expect(status).toBe('scheduled');
      const jobId = startJobId(id, contentHash);
      await h.ctx.queues.dispatch.remove(jobId);
      expect(await h.ctx.queues.dispatch.getJob(jobId)).toBeUndefined();

      expect((await sweep(h.ctx)).restarted).toBe(1);
      const back = await h.ctx.queues.dispatch.getJob(jobId);
      expect(back?.data).toMatchObject({ campaignId: id, contentHash });
      expect(await back!.isDelayed()).toBe(true);
      expect((await h.api('alice', 'POST', `/campaigns/${id}/halt`, { reason: 'done with it' })).status).toBe(200);
    });

    it('neither loses nor duplicates a message when the master of its slot fails over to its replica mid-send', async () => {
      const seed = new Redis({ port: cluster.ports[0]!, password: PASSWORD });
      const slot = await seed.cluster('KEYSLOT', `${prefix}:deliver:wait`);
      // [first slot, last slot, [ip, port, id] of the master, …its replicas]
      const ranges = (await seed.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
      seed.disconnect();
      const masterPort = ranges.find(([first, last]) => first <= slot && slot <= last)![2][1];
      const replica = new Redis({ port: cluster.replicaOf.get(masterPort)!, password: PASSWORD });

      const recipients = people(100, 'switch');
      const subject = 'Sent across a Cluster failover';
      try {
        const { id } = await h.approvedCampaign({ subject, recipients });
        await h.sink.waitUntil(() => h.sink.withSubject(subject).length >= 20, 30_000, 'the first 20 messages');
        // A manual failover: the master stops writes, the replica catches up and takes over its slots.
        expect(await replica.cluster('FAILOVER')).toBe('OK');
        await h.until(
          async () => ((await replica.call('ROLE')) as string[])[0],
          (role) => role === 'master',
          'the replica to be master',
          15_000,
        );
        expect(h.sink.withSubject(subject).length).toBeLessThan(recipients.length);

        await h.waitForStatus(id, 'sent', 45_000);
        expect(h.sink.withSubject(subject)).toHaveLength(recipients.length);
        h.expectEachReceivedOnce(recipients);
        expect((await fetch(`${h.baseUrl}/readyz`)).status).toBe(200);
      } finally {
        replica.disconnect();
      }
    });
  },
);
