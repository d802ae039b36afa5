import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweep } from '../../src/services/repair.js';
import { startWorkers, type Workers } from '../../workers/index.js';
import { Harness, people, testDb } from '../support/harness.js';

/** Two worker sets in this one process, as PGlite allows one process per data folder. */
const twoWorkerSets = (h: Harness): Workers[] => [startWorkers(h.ctx), startWorkers(h.ctx)];

// On PostgreSQL, processes-kill-switch.test.ts checks the same with real API and worker processes, restarted.
describe.skipIf(testDb() !== 'pglite')('the global kill switch with two worker sets in one process', () => {
  let h: Harness;
  let workers: Workers[] = [];

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      sink: { dataDelayMs: 20 },
      env: { SMTP_MAX_CONNECTIONS: '3', WORKER_CONCURRENCY: '2', DELIVERY_BATCH_SIZE: '200' },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin']);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.close(5000)));
    await h?.stop();
  });

  async function approve(id: string) {
    const submitted = await h.api('author', 'POST', `/campaigns/${id}/submit`);
    expect(submitted.status).toBe(200);
    await h.api('alice', 'POST', `/campaigns/${id}/approve`, { contentHash: submitted.body.contentHash });
    return h.api('bob', 'POST', `/campaigns/${id}/approve`, { contentHash: submitted.body.contentHash });
  }

  const queuesIdle = () =>
    h.until(
      async () => {
        const [dispatch, deliver] = await Promise.all([
          h.ctx.queues.dispatch.getJobCounts('waiting', 'active', 'delayed'),
          h.ctx.queues.deliver.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
        ]);
        return [...Object.values(dispatch), ...Object.values(deliver)].reduce((a, b) => a + b, 0);
      },
      (n) => n === 0,
      'queues to drain',
    );

  it('stops two concurrent campaigns across two worker sets, survives their restart, and resumes only re-approved ones', async () => {
    const ids: string[] = [];
    for (const tag of ['alpha', 'beta']) {
      const created = await h.api('author', 'POST', '/campaigns', {
        subject: `Campaign ${tag}`,
        body: 'Hello {{firstName}}',
        audience: { recipients: people(400, tag) },
      });
      ids.push(created.body.id);
      expect((await approve(created.body.id)).body.status).toBe('scheduled');
    }
    const [alpha, beta] = ids as [string, string];
    const sentOf = (tag: string) => h.sink.withSubject(`Campaign ${tag}`);
    workers = twoWorkerSets(h);
    await h.sink.waitUntil(() => sentOf('alpha').length >= 20 && sentOf('beta').length >= 20, 60_000, 'both campaigns sending');

    const halted = await h.api('alice', 'POST', '/halt-all', { reason: 'drill' });
    const atReturn = sentOf('alpha').length + sentOf('beta').length;
    expect(halted.status).toBe(200);
    expect(halted.body.engaged).toBe(true);
    const reports = halted.body.campaigns as { campaignId: string; inFlight: number; stopped: number }[];
    expect(reports.map((r) => r.campaignId).sort()).toEqual([...ids].sort());
    const inFlight = reports.reduce((sum, r) => sum + r.inFlight, 0);
    for (const id of ids)
      await h.until(
        () => h.api('admin', 'GET', `/campaigns/${id}`),
        (r) => r.body.deliveries.sending === 0,
        'in-flight to settle',
      );
    const afterHalt = sentOf('alpha').length + sentOf('beta').length;
    expect(afterHalt - atReturn).toBeLessThanOrEqual(inFlight);
    expect((await h.api('admin', 'GET', '/kill-switch')).body.engaged).toBe(true);

    // Restart every worker; the periodic repair runs too. Nothing moves.
    await Promise.all(workers.map((w) => w.close(5000)));
    workers = twoWorkerSets(h);
    await sweep(h.ctx);
    await queuesIdle();
    expect(sentOf('alpha').length + sentOf('beta').length).toBe(afterHalt);

    // A fresh quorum while the switch is engaged schedules alpha, but it still does not send.
    expect((await approve(alpha)).body.status).toBe('scheduled');
    await queuesIdle();
    expect(sentOf('alpha').length + sentOf('beta').length).toBe(afterHalt);

    expect((await h.api('alice', 'POST', '/resume-all')).status).toBe(403);
    expect((await h.api('admin', 'POST', '/resume-all')).body).toEqual({ engaged: false });
    await h.waitForStatus(alpha, 'sent', 60_000);
    await queuesIdle();

    expect(sentOf('alpha')).toHaveLength(400);
    expect(new Set(sentOf('alpha').map((m) => m.envelopeTo[0])).size).toBe(400);
    const betaState = await h.api('admin', 'GET', `/campaigns/${beta}`);
    expect(betaState.body.status).toBe('halted');
    expect(sentOf('beta')).toHaveLength(betaState.body.deliveries.sent);
    expect(betaState.body.deliveries.sent).toBeLessThan(400);
  });
});
