import { QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reservedRows } from '../../src/db/deliveries.js';
import { deliverJobId, QUEUE_NAMES } from '../../src/queue/jobs.js';
import { claimsOf, noteClaimingProcesses } from '../support/claims.js';
import { Harness, people, REDIS_URL, testDb } from '../support/harness.js';
import { Processes, type CountersignProcess } from '../support/processes.js';

const RECIPIENTS = 60;
const WINDOW = 10;

/**
 * A TCP hop from one worker process to the SMTP server. A killed process's kernel may reset its
 * connections; smtp-server reports a reset inside a transaction as an 'error' event, which the
 * test sink has no listener for, so it would fail the run. The hop passes every byte through and
 * closes the server's side with a plain FIN instead: the server still sees its client go away in
 * the middle of the transaction, as it does in most runs without the hop.
 */
async function gentleHop(smtpPort: number): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(smtpPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.end());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `smtp://127.0.0.1:${(server.address() as { port: number }).port}`,
    close: async () => {
      for (const socket of sockets) socket.end();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Once PostgreSQL has seen a killed process's sessions go, nothing of it can still change the ledger. */
async function untilGoneFromDatabase(h: Harness, processName: string): Promise<void> {
  await h.until(
    () =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = ${processName}`
        .execute(h.db)
        .then((r) => r.rows[0]!.n),
    (n) => n === 0,
    'the killed process to leave PostgreSQL',
  );
}

/** Separate processes share one database only on PostgreSQL; PGlite refuses a second process by design. */
describe.skipIf(testDb() !== 'postgres')('a worker process killed with -9 in the middle of SMTP transactions', () => {
  let h: Harness;
  const processes = new Processes();
  let eventsRedis: Redis | undefined;
  let stalledEvents: QueueEvents | undefined;
  const hops: { close(): Promise<void> }[] = [];
  // The first recipient's message is held inside its SMTP transaction until the test lets it go.
  let held = '';
  let heldInside = false;
  let releaseHeld = () => {};
  const heldReleased = new Promise<void>((resolve) => (releaseHeld = resolve));

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      sink: {
        dataDelayMs: 100,
        holdData: (address) => {
          if (address !== held) return undefined;
          heldInside = true;
          return heldReleased;
        },
      },
      env: {
        SWEEP_INTERVAL_MS: '500',
        STALE_SENDING_SECONDS: '10', // the smallest the configuration allows
        WORKER_LOCK_MS: '3000',
        DELIVERY_BATCH_SIZE: String(WINDOW),
        DELIVERY_CLAIM_SIZE: '3',
        WORKER_CONCURRENCY: '2',
        SMTP_MAX_CONNECTIONS: '3',
      },
    });
    await h.addAuthorAndApprovers();
    await noteClaimingProcesses(h.db);
  });
  afterAll(async () => {
    releaseHeld();
    await stalledEvents?.close();
    eventsRedis?.disconnect();
    await processes.stopAll();
    await Promise.all(hops.map((hop) => hop.close()));
    await h?.stop();
  });

  it('leaves what it had claimed unknown and never resent, while the other process and the sweep finish the campaign', async () => {
    const started = await Promise.all(
      ['worker-a', 'worker-b'].map(async (name) => {
        const hop = await gentleHop(h.sink.port);
        hops.push(hop);
        return [name, await processes.start('workers', { ...h.processEnv(name), SMTP_URL: hop.url })] as const;
      }),
    );
    const workers = new Map<string, CountersignProcess>(started);
    const subject = 'Notice sent through a crash';
    const id = await h.createCampaign({ subject, recipients: people(RECIPIENTS, 'p') });
    const contentHash = await h.submitCampaign(id);
    held = (
      await h.db
        .selectFrom('campaign_recipients')
        .select('email')
        .where('campaign_id', '=', id)
        .where('seq', '=', 1)
        .executeTakeFirstOrThrow()
    ).email;

    eventsRedis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    stalledEvents = new QueueEvents(QUEUE_NAMES.deliver, { connection: eventsRedis, prefix: h.config.QUEUE_PREFIX });
    const stalled: string[] = [];
    stalledEvents.on('stalled', ({ jobId }) => stalled.push(jobId));
    await stalledEvents.waitUntilReady();

    // The workers are running: one may start it before the approval's answer is read.
    expect(['scheduled', 'sending']).toContain(await h.approveCampaign(id, contentHash));
    await h.sink.waitUntil(() => heldInside, 30_000, 'the first message inside its SMTP transaction');

    const [firstClaim] = (await claimsOf(h.db, id)).filter((c) => c.seq === 1);
    const victimName = firstClaim!.process;
    const survivorName = victimName === 'worker-a' ? 'worker-b' : 'worker-a';
    await workers.get(victimName)!.kill();
    // The SMTP server accepts the held message after all: it may arrive although its sender died.
    releaseHeld();
    await untilGoneFromDatabase(h, victimName);
    const ledgerNow = await h.db.selectFrom('deliveries').select(['seq', 'status']).where('campaign_id', '=', id).execute();
    const claimsAtKill = await claimsOf(h.db, id);
    const inFlightAtKill = new Set(
      ledgerNow
        .filter((r) => r.status === 'sending' && claimsAtKill.some((c) => c.seq === r.seq && c.process === victimName))
        .map((r) => r.seq),
    );
    expect(inFlightAtKill.has(1)).toBe(true);
    // Only rows whose SMTP transaction had started: at most the dead process's connections.
    expect(inFlightAtKill.size).toBeLessThanOrEqual(3);
    const queuedInFirstWindow = ledgerNow.filter((r) => r.seq <= WINDOW && r.status === 'queued').map((r) => r.seq);
    expect(queuedInFirstWindow.length).toBeGreaterThan(0);

    // No test calls the sweep: BullMQ hands the dead process's windows to the survivor, the sweep marks its claims.
    await h.waitForStatus(id, 'sent', 45_000);

    const ledger = await h.db
      .selectFrom('deliveries')
      .select(['seq', 'email', 'status', 'attempts'])
      .where('campaign_id', '=', id)
      .orderBy('seq')
      .execute();
    expect(ledger).toHaveLength(RECIPIENTS);
    const arrivals = new Map<string, number>();
    for (const message of h.sink.withSubject(subject))
      arrivals.set(message.envelopeTo[0]!, (arrivals.get(message.envelopeTo[0]!) ?? 0) + 1);

    expect([...arrivals.values()].filter((n) => n > 1)).toEqual([]);
    expect(ledger.filter((r) => r.status !== 'sent' && r.status !== 'unknown')).toEqual([]);
    const unknown = ledger.filter((r) => r.status === 'unknown');
    expect(unknown.map((r) => r.seq)).toEqual([...inFlightAtKill].sort((a, b) => a - b));
    for (const row of unknown) expect(row.attempts).toBe(1);
    const sent = ledger.filter((r) => r.status === 'sent');
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.filter((r) => arrivals.get(r.email) !== 1)).toEqual([]);
    const neverArrived = ledger.filter((r) => !arrivals.has(r.email));
    expect(neverArrived.filter((r) => r.status !== 'unknown')).toEqual([]);
    expect(arrivals.get(held)).toBe(1);

    // The dead process's first window was taken back from BullMQ and finished by the survivor.
    expect(stalled).toContain(deliverJobId(id, contentHash, 1));
    const claims = await claimsOf(h.db, id);
    for (const seq of queuedInFirstWindow) expect(claims.filter((c) => c.seq === seq).map((c) => c.process)).toEqual([survivorName]);
    expect(claims.filter((c) => inFlightAtKill.has(c.seq)).every((c) => c.process === victimName)).toBe(true);
    expect(workers.get(survivorName)!.child.exitCode).toBeNull();
  });
});

/**
 * BullMQ hands a dead process's job to a live one a lock's length after the kill, which can be
 * before the dead job's reservations go stale. With no sweep to re-feed the window afterwards,
 * the re-run itself must wait for them and take them over, not end its window without them.
 */
describe.skipIf(testDb() !== 'postgres')('a worker process killed with -9 while it holds every row of its window reserved', () => {
  const WINDOW_ROWS = 8;
  let h: Harness;
  const processes = new Processes();
  const hops: { close(): Promise<void> }[] = [];

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      sink: { dataDelayMs: 300 },
      env: {
        SWEEP_INTERVAL_MS: '0',
        // The survivor takes the job back within about a second of the kill; reservations stay fresh for ten.
        WORKER_LOCK_MS: '1000',
        DELIVERY_BATCH_SIZE: String(WINDOW_ROWS),
        DELIVERY_CLAIM_SIZE: String(WINDOW_ROWS),
        WORKER_CONCURRENCY: '1',
        SMTP_MAX_CONNECTIONS: '1',
      },
    });
    await h.addAuthorAndApprovers();
    await noteClaimingProcesses(h.db);
  });
  afterAll(async () => {
    await processes.stopAll();
    await Promise.all(hops.map((hop) => hop.close()));
    await h?.stop();
  });

  it('the re-run of its job waits for them to go stale, then sends each exactly once', async () => {
    const workers = new Map<string, CountersignProcess>();
    for (const name of ['worker-a', 'worker-b']) {
      const hop = await gentleHop(h.sink.port);
      hops.push(hop);
      workers.set(name, await processes.start('workers', { ...h.processEnv(name), SMTP_URL: hop.url }));
    }
    const subject = 'Notice whose window outlives its worker';
    const id = await h.createCampaign({ subject, recipients: people(WINDOW_ROWS, 'r') });
    const contentHash = await h.submitCampaign(id);
    expect(['scheduled', 'sending']).toContain(await h.approveCampaign(id, contentHash));
    await h.sink.waitUntil(() => h.sink.withSubject(subject).length >= 2, 30_000, 'two messages of the window');

    const [firstClaim] = (await claimsOf(h.db, id)).filter((c) => c.seq === 1);
    const victimName = firstClaim!.process;
    const survivorName = victimName === 'worker-a' ? 'worker-b' : 'worker-a';
    await workers.get(victimName)!.kill();
    await untilGoneFromDatabase(h, victimName);
    const heldAtKill = await reservedRows(h.db, id);
    expect(heldAtKill.length).toBeGreaterThan(0);
    const heldSeqs = heldAtKill.map((r) => r.seq);

    const ledgerOfHeld = () =>
      h.db.selectFrom('deliveries').select(['seq', 'email', 'status']).where('campaign_id', '=', id).where('seq', 'in', heldSeqs).execute();
    const taken = await h.until(
      ledgerOfHeld,
      (rows) => rows.every((r) => r.status === 'sent'),
      'the rows reserved at the kill to be sent',
      45_000,
    );

    const arrivals = new Map<string, number>();
    for (const message of h.sink.withSubject(subject))
      arrivals.set(message.envelopeTo[0]!, (arrivals.get(message.envelopeTo[0]!) ?? 0) + 1);
    expect([...arrivals.values()].filter((n) => n > 1)).toEqual([]);
    expect(taken.filter((r) => arrivals.get(r.email) !== 1)).toEqual([]);
    const claims = await claimsOf(h.db, id);
    for (const seq of heldSeqs) expect(claims.filter((c) => c.seq === seq).map((c) => c.process)).toEqual([survivorName]);
  });
});
