import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, people, testDb } from '../support/harness.js';
import { Processes } from '../support/processes.js';

const RECIPIENTS = 120;
const CONNECTIONS = 2;
// One window holds the whole campaign: at 100 ms a message over two connections it takes about
// 6 s, longer than a stop may take, so a stop that waited for the window would be seen.
const DATA_DELAY_MS = 100;

/** Separate processes share one database only on PostgreSQL; PGlite refuses a second process by design. */
describe.skipIf(testDb() !== 'postgres')('a worker process stopped with SIGTERM in the middle of a send (a deploy)', () => {
  let h: Harness;
  const processes = new Processes();

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      sink: { dataDelayMs: DATA_DELAY_MS },
      env: {
        SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
        WORKER_CONCURRENCY: '1',
        DELIVERY_BATCH_SIZE: String(RECIPIENTS),
        DELIVERY_CLAIM_SIZE: '4',
        SWEEP_INTERVAL_MS: '500',
      },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(async () => {
    await processes.stopAll();
    await h?.stop();
  });

  it('finishes its transactions under way, starts no more, exits in seconds, and another worker sends the rest once', async () => {
    const first = await processes.start('workers', h.processEnv('worker-first'));
    const subject = 'Notice sent across a deploy';
    const { id } = await h.approvedCampaign({ subject, recipients: people(RECIPIENTS, 'deploy') });
    const arrived = () => h.sink.withSubject(subject);
    await h.sink.waitUntil(() => arrived().length >= 10, 30_000, 'the first ten messages');

    const stopAt = Date.now();
    expect(await first.stop()).toBe(0);
    const stopMs = Date.now() - stopAt;
    // Messages on a connection take 100 ms; the rest of the window would take seconds more.
    expect(stopMs).toBeLessThan(3000);

    // Nothing is left in flight: each transaction under way got its outcome written before the exit.
    const byStatus = await h.db
      .selectFrom('deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('campaign_id', '=', id)
      .groupBy('status')
      .execute();
    const counts = Object.fromEntries(byStatus.map((r) => [r.status, Number(r.n)]));
    expect(counts.sending ?? 0).toBe(0);
    expect(counts.unknown ?? 0).toBe(0);
    expect(counts.sent).toBe(arrived().length);
    expect(counts.sent).toBeLessThan(RECIPIENTS);

    await processes.start('workers', h.processEnv('worker-next'));
    await h.waitForStatus(id, 'sent', 60_000);
    const recipients = arrived().map((m) => m.envelopeTo[0]);
    expect(recipients).toHaveLength(RECIPIENTS);
    expect(new Set(recipients).size).toBe(RECIPIENTS);
    const campaign = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(campaign.body.deliveries).toMatchObject({ sent: RECIPIENTS, unknown: 0, sending: 0, queued: 0 });
  });
});
