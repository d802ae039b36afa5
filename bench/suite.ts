import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { runBaseline, type BaselineResult } from './baseline.js';
import type { DatabaseKind } from './database.js';
import { Deployment } from './deployment.js';
import { profiled, type ProfileSummary } from './profile.js';
import { measureMachineCpu, type MachineCpu } from './machine-cpu.js';
import { megabytes } from './sampler.js';
import {
  runCorrection,
  runFanOut,
  runHalt,
  runPipeline,
  type CorrectionResult,
  type FanOutResult,
  type HaltResult,
  type PipelineResult,
} from './scenarios.js';
import { SinkClient } from './sink-client.js';

export interface SuiteOptions {
  database: DatabaseKind;
  /** Size of the pipeline and halt campaigns and of the baseline (the halt campaign has at least 1,000). */
  messages: number;
  /** Size of the fan-out campaign and of the correction built from it. */
  recipients: number;
  /** SMTP pool sizes (SMTP_MAX_CONNECTIONS) the baseline and the pipeline are measured at. */
  pools?: number[];
  /** The pool the fan-out, the halts and the correction run at; measured as one of the pools too. */
  scalePool?: number;
  /** Where the sink writes each message before it accepts it; unset, it only counts. */
  writeDir?: string;
  /** Where to write a CPU profile of the pipeline run at the scale pool; unset, no profile. */
  profileDir?: string;
  log?: (line: string) => void;
}

/** Below this a send can finish before the halt request lands, and there is nothing left to halt. */
const HALT_MINIMUM = 1000;
/** The large halt comes this early: the worst case, with nearly every row still to be stopped. */
const HALT_AT_SCALE_AFTER = 1000;
export const DEFAULT_SCALE_POOL = 10;

/**
 * CPU time of this process (user and system, every thread) per message while `work` ran, and
 * the whole machine's, by process.
 */
async function cpuPerMessage<T>(sink: SinkClient, messages: number, work: () => Promise<T>): Promise<Measured<T>> {
  const before = process.cpuUsage();
  const machine = measureMachineCpu(sink.pid);
  const result = await work();
  const used = process.cpuUsage(before);
  return { result, cpuMsPerMessage: (used.user + used.system) / 1000 / messages, machineCpu: machine.stop(messages) };
}

type Measured<T> = { result: T; cpuMsPerMessage: number; machineCpu: MachineCpu };

/** Raw nodemailer's runs before and after the pipeline's, taken together, and each one's rate. */
export type SandwichedBaseline = BaselineResult & { cpuMsPerMessage: number; machineCpu: MachineCpu; runs: { perSecond: number }[] };

/**
 * The baseline runs just before and just after the pipeline, and the pipeline is set against both
 * together: this machine's speed drifted by up to 30 % within a minute (the sink's CPU for the
 * same messages), and a single baseline before made the ratio swing with it.
 */
function sandwiched(before: Measured<BaselineResult>, after: Measured<BaselineResult>): SandwichedBaseline {
  const runs = [before, after];
  const mean = (value: (run: Measured<BaselineResult>) => number) => (value(before) + value(after)) / 2;
  const messages = before.result.messages + after.result.messages;
  const seconds = before.result.seconds + after.result.seconds;
  const machineCpu = Object.fromEntries(
    Object.keys(before.machineCpu).map((key) => [key, mean((run) => run.machineCpu[key as keyof MachineCpu])]),
  ) as unknown as MachineCpu;
  return {
    messages,
    seconds,
    perSecond: messages / seconds,
    arrivedOnce: before.result.arrivedOnce && after.result.arrivedOnce,
    cpuMsPerMessage: mean((run) => run.cpuMsPerMessage),
    machineCpu,
    runs: runs.map((run) => ({ perSecond: run.result.perSecond })),
  };
}

export interface PoolResult {
  pool: number;
  baseline: SandwichedBaseline;
  pipeline: PipelineResult & { cpuMsPerMessage: number; machineCpu: MachineCpu; ratioToBaseline: number; cpuRatioToBaseline: number };
  /** Where the pipeline's main thread spent its time (at the scale pool, when asked for). */
  profile?: ProfileSummary & { file: string };
}

export interface SuiteResult {
  database: DatabaseKind;
  /** V8's heap limit in the measured process: the start scripts' bound when run through `npm run bench`. */
  heapLimitMb: number;
  pools: PoolResult[];
  scalePool: number;
  /** Halted a quarter of the way through a send of `messages`. */
  halt: HaltResult;
  /** Halted early in a send to the fan-out list, when nearly all of its ledger is still queued. */
  haltAtScale: HaltResult;
  fanOut: FanOutResult & { rateRatioToPipeline: number };
  correction: CorrectionResult;
}

/**
 * Every measurement against one database, with its own sink: at each pool size a fresh database
 * and queue prefix, the baseline and the pipeline; at the scale pool also the rest.
 */
export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const log = options.log ?? (() => {});
  const scalePool = options.scalePool ?? DEFAULT_SCALE_POOL;
  const pools = [...new Set([...(options.pools ?? []), scalePool])].sort((a, b) => a - b);
  const sink = await SinkClient.start(options.writeDir);
  const tag = `[${options.database}]`;
  const measured: PoolResult[] = [];
  let scale: Omit<SuiteResult, 'database' | 'heapLimitMb' | 'pools' | 'scalePool'> | undefined;
  try {
    for (const pool of pools) {
      const deployment = await Deployment.start(options.database, sink.url, { SMTP_MAX_CONNECTIONS: String(pool) });
      try {
        const rawRun = async (when: string) => {
          log(`${tag} pool ${pool}: baseline ${when}, raw nodemailer, ${options.messages} messages`);
          return cpuPerMessage(sink, options.messages, () => runBaseline(sink, { messages: options.messages, maxConnections: pool }));
        };
        const rawBefore = await rawRun('before');
        const small = await deployment.importList('messages', options.messages);
        log(`${tag} pool ${pool}: pipeline, ${options.messages} messages`);
        const profileFile =
          options.profileDir && pool === scalePool
            ? path.join(options.profileDir, `${options.database}-pipeline-pool${pool}.cpuprofile`)
            : undefined;
        const pipeline = await cpuPerMessage(sink, options.messages, async () => {
          if (!profileFile) return { result: await runPipeline(deployment, sink, small, options.messages), summary: undefined };
          return profiled(profileFile, () => runPipeline(deployment, sink, small, options.messages));
        });
        const { result: run, summary } = pipeline.result;
        const baseline = sandwiched(rawBefore, await rawRun('after'));
        measured.push({
          pool,
          baseline,
          pipeline: {
            ...run,
            cpuMsPerMessage: pipeline.cpuMsPerMessage,
            machineCpu: pipeline.machineCpu,
            ratioToBaseline: run.perSecond / baseline.perSecond,
            cpuRatioToBaseline: pipeline.cpuMsPerMessage / baseline.cpuMsPerMessage,
          },
          ...(summary && profileFile ? { profile: { ...summary, file: profileFile } } : {}),
        });
        if (pool === scalePool) scale = await runAtScale(deployment, sink, options, run.perSecond, log);
      } finally {
        await deployment.stop();
      }
    }
    return {
      database: options.database,
      heapLimitMb: megabytes(getHeapStatistics().heap_size_limit),
      pools: measured,
      scalePool,
      ...scale!,
    };
  } finally {
    await sink.stop();
  }
}

/** The halts, the fan-out and the correction, on a deployment that has just measured the pipeline. */
async function runAtScale(
  deployment: Deployment,
  sink: SinkClient,
  options: SuiteOptions,
  pipelineRate: number,
  log: (line: string) => void,
) {
  const tag = `[${options.database}]`;
  const haltSize = Math.max(options.messages, HALT_MINIMUM);
  log(`${tag} importing lists of ${haltSize} and ${options.recipients}`);
  const haltList = await deployment.importList('halt', haltSize);
  const large = await deployment.importList('recipients', options.recipients);
  log(`${tag} halt during a send of ${haltSize}`);
  const halt = await runHalt(deployment, sink, haltList, haltSize, Math.ceil(haltSize / 4));
  log(`${tag} fan-out: ${options.recipients} recipients`);
  const fanOut = await runFanOut(deployment, sink, large, options.recipients);
  log(`${tag} correction audience from the ledger of ${options.recipients}`);
  const correction = await runCorrection(deployment, fanOut.campaignId);
  const haltAfter = Math.min(HALT_AT_SCALE_AFTER, Math.ceil(options.recipients / 4));
  log(`${tag} halt after ${haltAfter} messages of a send of ${options.recipients}`);
  const haltAtScale = await runHalt(deployment, sink, large, options.recipients, haltAfter);
  return {
    halt,
    haltAtScale,
    fanOut: { ...fanOut, rateRatioToPipeline: fanOut.recipients / fanOut.allSentSeconds / pipelineRate },
    correction,
  };
}
