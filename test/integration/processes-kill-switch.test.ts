import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_NAMES, startJobId } from '../../src/queue/jobs.js';
import { Harness, people, REDIS_URL, testDb } from '../support/harness.js';
import { freePort, Processes, type CountersignProcess } from '../support/processes.js';

const RECIPIENTS = 400;

/** Separate processes share one database only on PostgreSQL; PGlite refuses a second process by design. */
describe.skipIf(testDb() !== 'postgres')('the kill switch across restarts of the API and worker processes', () => {
  let h: Harness;
  const processes = new Processes();
  let eventsRedis: Redis | undefined;
  let dispatchEvents: QueueEvents | undefined;
  // Each start job that ran to the end, by job id: a start job refused by the kill switch completes.
  const startRuns = new Map<string, number>();

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      sink: { dataDelayMs: 20 },
      env: {
        SMTP_MAX_CONNECTIONS: '3',
        WORKER_CONCURRENCY: '2',
        DELIVERY_BATCH_SIZE: '200',
        SWEEP_INTERVAL_MS: '500',
        WORKER_LOCK_MS: '3000',
      },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin']);
    eventsRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    dispatchEvents = new QueueEvents(QUEUE_NAMES.dispatch, { connection: eventsRedis, prefix: h.config.QUEUE_PREFIX });
    dispatchEvents.on('completed', ({ jobId }) => startRuns.set(jobId, (startRuns.get(jobId) ?? 0) + 1));
    await dispatchEvents.waitUntilReady();
  });
  afterAll(async () => {
    await processes.stopAll();
    await dispatchEvents?.close();
    eventsRedis?.disconnect();
    await h?.stop();
  });

  /** One API process and two worker processes, as a scaled-out deployment runs them. */
  async function deploy(): Promise<{ api: string; all: CountersignProcess[] }> {
    const port = await freePort();
    const api = `http://127.0.0.1:${port}`;
    const all = await Promise.all([
      processes.start('api', { ...h.processEnv('api'), PORT: String(port), PUBLIC_URL: api }),
      processes.start('workers', h.processEnv('worker-a')),
      processes.start('workers', h.processEnv('worker-b')),
    ]);
    return { api, all };
  }

  async function approve(api: string, id: string): Promise<{ status: string; contentHash: string }> {
    const submitted = await h.apiAt(api, 'author', 'POST', `/campaigns/${id}/submit`);
    expect(submitted.status).toBe(200);
    const contentHash = submitted.body.contentHash as string;
    await h.apiAt(api, 'alice', 'POST', `/campaigns/${id}/approve`, { contentHash });
    const approved = await h.apiAt(api, 'bob', 'POST', `/campaigns/${id}/approve`, { contentHash });
    return { status: approved.body.status, contentHash };
  }

  /**
   * A start job runs twice more from now. Only one job of an id exists at a time, so at least one
   * of the two was put back on the queue after this call, which only the repair sweep does while
   * the switch is engaged: the running processes have swept.
   */
  const sweptAgain = (jobId: string) => {
    const seen = startRuns.get(jobId) ?? 0;
    return h.until(
      async () => startRuns.get(jobId) ?? 0,
      (n) => n >= seen + 2,
      `start job ${jobId} to be refused, put back by the sweep, and refused again`,
    );
  };

  const deliveriesIdle = () =>
    h.until(
      async () =>
        Object.values(await h.ctx.queues.deliver.getJobCounts('waiting', 'active', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0),
      (n) => n === 0,
      'no delivery jobs left',
    );

  it('stays engaged and sends nothing more after every process is stopped and started again, until an admin resumes', async () => {
    let deployment = await deploy();
    const ids: string[] = [];
    for (const tag of ['alpha', 'beta']) {
      const created = await h.apiAt(deployment.api, 'author', 'POST', '/campaigns', {
        subject: `Campaign ${tag}`,
        body: 'Hello {{firstName}}',
        audience: { recipients: people(RECIPIENTS, tag) },
      });
      ids.push(created.body.id);
      // The workers are running: one may start it before the approval's answer is read.
      expect(['scheduled', 'sending']).toContain((await approve(deployment.api, created.body.id)).status);
    }
    const [alpha, beta] = ids as [string, string];
    const sentOf = (tag: string) => h.sink.withSubject(`Campaign ${tag}`);
    const sentNow = () => sentOf('alpha').length + sentOf('beta').length;
    await h.sink.waitUntil(() => sentOf('alpha').length >= 20 && sentOf('beta').length >= 20, 60_000, 'both campaigns sending');

    const halted = await h.apiAt(deployment.api, 'alice', 'POST', '/halt-all', { reason: 'drill' });
    const atReturn = sentNow();
    expect(halted.status).toBe(200);
    expect(halted.body.engaged).toBe(true);
    const reports = halted.body.campaigns as { campaignId: string; inFlight: number; stopped: number }[];
    expect(reports.map((r) => r.campaignId).sort()).toEqual([...ids].sort());
    const inFlight = reports.reduce((sum, r) => sum + r.inFlight, 0);
    for (const id of ids)
      await h.until(
        () => h.apiAt(deployment.api, 'admin', 'GET', `/campaigns/${id}`),
        (r) => r.body.deliveries.sending === 0,
        'in-flight to settle',
      );
    const afterHalt = sentNow();
    const betaAfterHalt = sentOf('beta').length;
    expect(afterHalt - atReturn).toBeLessThanOrEqual(inFlight);
    expect(afterHalt).toBeLessThan(2 * RECIPIENTS);

    // Every process stopped as a process manager stops it, and a new deployment started.
    for (const code of await Promise.all(deployment.all.map((p) => p.stop()))) expect(code).toBe(0);
    deployment = await deploy();
    expect((await h.apiAt(deployment.api, 'admin', 'GET', '/kill-switch')).body.engaged).toBe(true);

    // A fresh quorum while the switch is engaged schedules alpha; its start is refused, put back by the sweep, refused again.
    const reapproved = await approve(deployment.api, alpha);
    expect(reapproved.status).toBe('scheduled');
    const alphaStart = startJobId(alpha, reapproved.contentHash);
    await sweptAgain(alphaStart);
    await deliveriesIdle();
    expect(sentNow()).toBe(afterHalt);

    // Every process killed with -9 this time, and a new deployment started.
    await Promise.all(deployment.all.map((p) => p.kill()));
    deployment = await deploy();
    expect((await h.apiAt(deployment.api, 'admin', 'GET', '/kill-switch')).body.engaged).toBe(true);
    await sweptAgain(alphaStart);
    await deliveriesIdle();
    expect(sentNow()).toBe(afterHalt);
    expect((await h.apiAt(deployment.api, 'admin', 'GET', `/campaigns/${alpha}`)).body.status).toBe('scheduled');

    expect((await h.apiAt(deployment.api, 'alice', 'POST', '/resume-all')).status).toBe(403);
    expect((await h.apiAt(deployment.api, 'admin', 'POST', '/resume-all')).body).toEqual({ engaged: false });
    await h.waitForStatus(alpha, 'sent', 60_000);
    await deliveriesIdle();

    expect(sentOf('alpha')).toHaveLength(RECIPIENTS);
    expect(new Set(sentOf('alpha').map((m) => m.envelopeTo[0])).size).toBe(RECIPIENTS);
    const betaState = await h.apiAt(deployment.api, 'admin', 'GET', `/campaigns/${beta}`);
    expect(betaState.body.status).toBe('halted');
    expect(sentOf('beta')).toHaveLength(betaAfterHalt);
    expect(betaState.body.deliveries.sent).toBe(betaAfterHalt);
    // Three deployments of three processes, each started through tsx: about 3 s apiece idle, 10-15 s on a loaded machine.
  }, 120_000);
});
