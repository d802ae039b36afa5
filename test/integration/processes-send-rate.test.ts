import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimsOf, noteClaimingProcesses } from '../support/claims.js';
import { Harness, people, testDb } from '../support/harness.js';
import { Processes } from '../support/processes.js';

const RATE = 20;
const CLAIM_SIZE = 2;
const PROCESSES = 2;
const CONCURRENCY = 2;
const RECIPIENTS = 120;
// A message arriving in a window either had its send slot in the window (at most RATE × window
// + one claim, the limiter gives out slots a claim at a time and no burst) or had its slot before
// and was still on its way: a claim in progress, at most one per running delivery job.
const ALLOWANCE = CLAIM_SIZE * (PROCESSES * CONCURRENCY + 1);

/** Separate processes share one database only on PostgreSQL; PGlite refuses a second process by design. */
describe.skipIf(testDb() !== 'postgres')('the send rate across two worker processes', () => {
  let h: Harness;
  const processes = new Processes();

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      env: {
        SEND_RATE_PER_SECOND: String(RATE),
        DELIVERY_CLAIM_SIZE: String(CLAIM_SIZE),
        WORKER_CONCURRENCY: String(CONCURRENCY),
        DELIVERY_BATCH_SIZE: '10',
        SMTP_MAX_CONNECTIONS: '2',
      },
    });
    await h.addAuthorAndApprovers();
    await noteClaimingProcesses(h.db);
  });
  afterAll(async () => {
    await processes.stopAll();
    await h?.stop();
  });

  it('holds SEND_RATE_PER_SECOND for both processes together, not for each', async () => {
    const workers = await Promise.all(['worker-a', 'worker-b'].map((name) => processes.start('workers', h.processEnv(name))));
    const subject = 'Rate-limited notice';
    const { id, status } = await h.approvedCampaign({ subject, recipients: people(RECIPIENTS, 'r') });
    // The workers are running: one may start it before the approval's answer is read.
    expect(['scheduled', 'sending']).toContain(status);
    await h.waitForStatus(id, 'sent', 60_000);

    const arrived = h.sink.withSubject(subject);
    expect(arrived).toHaveLength(RECIPIENTS);
    expect(new Set(arrived.map((m) => m.envelopeTo[0])).size).toBe(RECIPIENTS);

    // Both processes sent: each claimed (and so sent, all having arrived) part of the campaign.
    const claims = await claimsOf(h.db, id);
    expect(claims).toHaveLength(RECIPIENTS);
    const byProcess = new Map<string, number>();
    for (const claim of claims) byProcess.set(claim.process, (byProcess.get(claim.process) ?? 0) + 1);
    expect([...byProcess.keys()].sort()).toEqual(['worker-a', 'worker-b']);
    for (const count of byProcess.values()) expect(count).toBeGreaterThanOrEqual(10);

    const times = arrived.map((m) => m.receivedAt.getTime()).sort((a, b) => a - b);
    const spanSeconds = (times.at(-1)! - times[0]!) / 1000;
    // Every window [times[i], times[j]]: how far its arrivals exceed RATE × its length.
    let worst = { excess: -Infinity, count: 0, seconds: 0 };
    for (let i = 0; i < times.length; i++) {
      for (let j = i + 1; j < times.length; j++) {
        const seconds = (times[j]! - times[i]!) / 1000;
        const excess = j - i + 1 - RATE * seconds;
        if (excess > worst.excess) worst = { excess, count: j - i + 1, seconds };
      }
    }
    const summary = `${RECIPIENTS} arrived over ${spanSeconds.toFixed(2)} s; worst window ${worst.count} in ${worst.seconds.toFixed(2)} s; per process ${[...byProcess].map(([p, count]) => `${p} ${count}`).join(', ')}`;
    expect(worst.excess, summary).toBeLessThanOrEqual(ALLOWANCE);
    expect(spanSeconds, summary).toBeGreaterThanOrEqual((RECIPIENTS - ALLOWANCE) / RATE);
    for (const worker of workers) expect(worker.output()).not.toContain('failed');
  });
});
