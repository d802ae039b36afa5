import { AppProcess, freePort } from './app-process.js';
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
  limited: { limit: number; perSecond: number; /** Not above the limit by more than 5 %. */ held: boolean; /** Within 5 % of it either way. */ reached: boolean; arrivedOnce: boolean };
  /** Halted through the API process a quarter of the way into an unlimited send. */
  halt: HaltResult;
  /** Peak RSS (VmHWM) of each process of the unlimited run, MB. */
  peakRssMb: { api: number | null; workers: (number | null)[] };
}

/** The allowance a global rate may be off by and still count as held. */
const RATE_TOLERANCE = 0.05;

/** Starts one API process and `count` worker processes joined to the deployment; runs `work`; stops them. */
async function withProcesses<T>(deployment: Deployment, count: number, env: Record<string, string>, work: (apiUrl: string, processes: AppProcess[]) => Promise<T>): Promise<T> {
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
      results.push({
        workers: count,
        connections: count * options.pool,
        throughput: { messages: options.messages, perSecond: unlimited.throughput.perSecond, arrivedOnce: unlimited.throughput.arrivedOnce },
        limited,
        halt: unlimited.halt,
        peakRssMb: unlimited.peakRssMb,
      });
    } finally {
      await deployment.stop();
    }
  }
  return results;
}
