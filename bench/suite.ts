import { getHeapStatistics } from 'node:v8';
import { runBaseline, type BaselineResult } from './baseline.js';
import type { DatabaseKind } from './database.js';
import { Deployment } from './deployment.js';
import { megabytes } from './sampler.js';
import { runCorrection, runFanOut, runHalt, runPipeline, type CorrectionResult, type FanOutResult, type HaltResult, type PipelineResult } from './scenarios.js';
import { SinkClient } from './sink-client.js';

export interface SuiteOptions {
  database: DatabaseKind;
  /** Size of the pipeline and halt campaigns and of the baseline (the halt campaign has at least 1,000). */
  messages: number;
  /** Size of the fan-out campaign and of the correction built from it. */
  recipients: number;
  log?: (line: string) => void;
}

/** Below this a send can finish before the halt request lands, and there is nothing left to halt. */
const HALT_MINIMUM = 1000;
/** The large halt comes this early: the worst case, with nearly every row still to be stopped. */
const HALT_AT_SCALE_AFTER = 1000;

export interface SuiteResult {
  database: DatabaseKind;
  /** V8's heap limit in the measured process: the start scripts' bound when run through `npm run bench`. */
  heapLimitMb: number;
  baseline: BaselineResult;
  pipeline: PipelineResult & { ratioToBaseline: number };
  /** Halted a quarter of the way through a send of `messages`. */
  halt: HaltResult;
  /** Halted early in a send to the fan-out list, when nearly all of its ledger is still queued. */
  haltAtScale: HaltResult;
  fanOut: FanOutResult;
  correction: CorrectionResult;
}

/** Every measurement against one database, with its own sink, queue prefix and fresh database. */
export async function runSuite(options: SuiteOptions): Promise<SuiteResult> {
  const log = options.log ?? (() => {});
  const sink = await SinkClient.start();
  let deployment: Deployment | undefined;
  try {
    deployment = await Deployment.start(options.database, sink.url);
    log(`[${options.database}] baseline: raw nodemailer, ${options.messages} messages`);
    const baseline = await runBaseline(sink, { messages: options.messages, maxConnections: deployment.ctx.config.SMTP_MAX_CONNECTIONS });
    const haltSize = Math.max(options.messages, HALT_MINIMUM);
    log(`[${options.database}] importing lists of ${options.messages}, ${haltSize} and ${options.recipients}`);
    const small = await deployment.importList('messages', options.messages);
    const haltList = haltSize === options.messages ? small : await deployment.importList('halt', haltSize);
    const large = await deployment.importList('recipients', options.recipients);
    log(`[${options.database}] pipeline: ${options.messages} messages`);
    const pipeline = await runPipeline(deployment, sink, small, options.messages);
    log(`[${options.database}] halt during a send of ${haltSize}`);
    const halt = await runHalt(deployment, sink, haltList, haltSize, Math.ceil(haltSize / 4));
    log(`[${options.database}] fan-out: ${options.recipients} recipients`);
    const fanOut = await runFanOut(deployment, sink, large, options.recipients);
    log(`[${options.database}] correction audience from the ledger of ${options.recipients}`);
    const correction = await runCorrection(deployment, fanOut.campaignId);
    const haltAfter = Math.min(HALT_AT_SCALE_AFTER, Math.ceil(options.recipients / 4));
    log(`[${options.database}] halt after ${haltAfter} messages of a send of ${options.recipients}`);
    const haltAtScale = await runHalt(deployment, sink, large, options.recipients, haltAfter);
    return { database: options.database, heapLimitMb: megabytes(getHeapStatistics().heap_size_limit), baseline, pipeline: { ...pipeline, ratioToBaseline: pipeline.perSecond / baseline.perSecond }, halt, haltAtScale, fanOut, correction };
  } finally {
    await deployment?.stop();
    await sink.stop();
  }
}
