import { countByStatus, reservedRows } from '../src/db/deliveries.js';
import { AppProcess, freePort } from './app-process.js';
import { AUDIENCE_DOMAIN } from './message.js';
import { Deployment } from './deployment.js';
import { runHalt, runPipeline, type HaltResult } from './scenarios.js';
import type { SinkClient } from './sink-client.js';

export interface SplitOptions {
  /** Worker process counts to measure, each with one API process. */
  workers: number[];
  /** Messages each send of a run has. */
  messages: number;
  /** SMTP_MAX_CONNECTIONS of each worker process. */
  pool: number;
  /** SEND_RATE_PER_SECOND of the rate-limited send. */
  rate: number;
  log?: (line: string) => void;
}

export interface SplitResult {
  workers: number;
  /** SMTP connections the relay sees: every worker process has a pool of its own. */
  connections: number;
  /** With no rate limit to speak of: what the processes together send. */
  throughput: { messages: number; perSecond: number; arrivedOnce: boolean };
  /** With SEND_RATE_PER_SECOND set: the rate from the first arrival to the last. */
  limited: {
    limit: number;
    perSecond: number;
    /** Not above the limit by more than 5 %. */ held: boolean;
    /** Within 5 % of it either way. */ reached: boolean;
    arrivedOnce: boolean;
  };
  /** Halted through the API process a quarter of the way into an unlimited send. */
  halt: HaltResult;
  /** Peak RSS (VmHWM) of each process of the unlimited run, MB. */
  peakRssMb: { api: number | null; workers: (number | null)[] };
  /** One worker process killed with -9 a quarter into a rate-limited send, and started again at once. */
  death: WorkerDeath;
}

export interface WorkerDeath {
  /** From the kill until every reservation held at the kill (the dead process's among them) was sent or taken over. */
  takeoverMs: number;
  /** Queued rows reserved by any process at the kill. */
  reservedAtKill: number;
  /** From the kill until the send had no queued row left. */
  finishedMs: number;
  arrivedOnce: boolean;
}

/** The allowance a global rate may be off by and still count as held. */
const RATE_TOLERANCE = 0.05;

/** Starts one API process and `count` worker processes joined to the deployment; runs `work`; stops them. */
async function withProcesses<T>(
  deployment: Deployment,
  count: number,
  env: Record<string, string>,
  work: (apiUrl: string, processes: AppProcess[]) => Promise<T>,
): Promise<T> {
  const port = await freePort();
  const settings = { ...deployment.settings, ...env, PORT: String(port) };
  const processes: AppProcess[] = [];
  try {
    processes.push(await AppProcess.start('api', settings));
    for (let i = 0; i < count; i += 1) processes.push(await AppProcess.start('workers', settings));
    return await work(`http://127.0.0.1:${port}`, processes);
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
  }
}

/**
 * The scale-out shape on PostgreSQL (issue 15): this process sets up and approves; one API
 * process takes the halt; 1, 2, 4… worker processes send, each with its own SMTP pool, sharing the
 * rate budget in Redis.
 */
export async function runSplit(sink: SinkClient, options: SplitOptions): Promise<SplitResult[]> {
  const log = options.log ?? (() => {});
  const results: SplitResult[] = [];
  for (const count of options.workers) {
    const deployment = await Deployment.start('postgres', sink.url, { SMTP_MAX_CONNECTIONS: String(options.pool) }, { workers: false });
    try {
      const list = await deployment.importList('split', options.messages);
      log(`[split] ${count} worker process(es): unlimited send of ${options.messages}, then a halt`);
      const unlimited = await withProcesses(deployment, count, {}, async (apiUrl, processes) => {
        const throughput = await runPipeline(deployment, sink, list, options.messages);
        const halt = await runHalt(deployment, sink, list, options.messages, Math.ceil(options.messages / 4), apiUrl);
        const [api, ...workers] = processes.map((p) => p.peakRssMb());
        return { throughput, halt, peakRssMb: { api: api ?? null, workers } };
      });
      log(`[split] ${count} worker process(es): a send of ${options.messages} at SEND_RATE_PER_SECOND=${options.rate}`);
      const limited = await withProcesses(deployment, count, { SEND_RATE_PER_SECOND: String(options.rate) }, async () => {
        const run = await runPipeline(deployment, sink, list, options.messages);
        const { firstAt, lastAt } = await sink.stats();
        const perSecond = (options.messages - 1) / ((lastAt! - firstAt!) / 1000);
        return {
          limit: options.rate,
          perSecond,
          held: perSecond <= options.rate * (1 + RATE_TOLERANCE),
          reached: Math.abs(perSecond / options.rate - 1) <= RATE_TOLERANCE,
          arrivedOnce: run.arrivedOnce,
        };
      });
      log(`[split] ${count} worker process(es): one killed with -9 a quarter into a send at ${options.rate}/s, restarted at once`);
      const death = await withProcesses(deployment, count, { SEND_RATE_PER_SECOND: String(options.rate) }, (apiUrl, processes) =>
        runWorkerDeath(deployment, sink, list, options.messages, processes, {
          ...deployment.settings,
          SEND_RATE_PER_SECOND: String(options.rate),
          PORT: new URL(apiUrl).port,
        }),
      );
      results.push({
        workers: count,
        connections: count * options.pool,
        throughput: {
          messages: options.messages,
          perSecond: unlimited.throughput.perSecond,
          arrivedOnce: unlimited.throughput.arrivedOnce,
        },
        limited,
        halt: unlimited.halt,
        peakRssMb: unlimited.peakRssMb,
        death,
      });
    } finally {
      await deployment.stop();
    }
  }
  return results;
}

/**
 * Issue 13's recovery: kill -9 of a worker process mid-send, restarted at once as a process manager
 * would. Its reserved rows wait for the takeover (the job's lock to lapse and the stalled check, or the
 * reservation to go stale); what it had on a connection becomes `unknown` later, never resent.
 */
async function runWorkerDeath(
  deployment: Deployment,
  sink: SinkClient,
  listId: string,
  messages: number,
  processes: AppProcess[],
  settings: Record<string, string>,
): Promise<WorkerDeath> {
  await sink.reset(`@${AUDIENCE_DOMAIN}`);
  const campaign = await deployment.approveCampaign(listId);
  await sink.waitFor(Math.ceil(messages / 4), 120_000 + messages * 20);
  const victim = processes.find((p) => p.role === 'workers')!;
  const killedAt = Date.now();
  await victim.killHard();
  // Every reservation held at the kill: a live process sends its own in moments, the dead one's wait for the takeover.
  const held = await reservedRows(deployment.ctx.db, campaign.id);
  const heldTokens = new Set(held.map((r) => r.claim_token));
  processes.push(await AppProcess.start('workers', settings));
  await deployment.until(
    async () => (await reservedRows(deployment.ctx.db, campaign.id)).every((row) => !heldTokens.has(row.claim_token)),
    'the reservations held at the kill to be taken over',
    120_000,
  );
  const takeoverMs = Date.now() - killedAt;
  await deployment.until(
    async () => (await countByStatus(deployment.ctx.db, campaign.id)).queued === 0,
    'the send to finish',
    120_000 + messages * 20,
  );
  const finishedMs = Date.now() - killedAt;
  const stats = await sink.stats();
  return { takeoverMs, reservedAtKill: held.length, finishedMs, arrivedOnce: stats.duplicates === 0 };
}
