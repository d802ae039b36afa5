import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkBeside } from '../src/fork-beside.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { describePostgresServer } from './database.js';
import { parseOptions } from './options.js';
import { formatProfile } from './profile.js';
import { formatScale, formatSplit, formatTable } from './report.js';
import type { ScaleResult } from './scale.js';
import type { SplitResult } from './split.js';
import type { ChildRequest } from './suite-process.js';
import type { SuiteResult } from './suite.js';

// In the source folder, also when the benchmark runs from dist/bench.
const RESULTS_FILE = path.join(PACKAGE_ROOT, 'bench', 'results.json');
const SCALE_RESULTS_FILE = path.join(PACKAGE_ROOT, 'bench', 'results-scale.json');
const PROFILE_DIR = path.join(PACKAGE_ROOT, 'bench', 'profiles');

function runInChild<T>(request: ChildRequest, what: string): Promise<T> {
  const child = forkBeside(import.meta.url, 'suite-process');
  child.send(request);
  return new Promise((resolve, reject) => {
    child.once('message', (message: { result?: T; error?: string }) =>
      message.result ? resolve(message.result) : reject(new Error(message.error)),
    );
    child.once('exit', (code) => reject(new Error(`the ${what} run exited with code ${code}`)));
  });
}

const options = parseOptions(process.argv.slice(2));
if (options.profile) mkdirSync(PROFILE_DIR, { recursive: true });
const scratch = mkdtempSync(path.join(os.tmpdir(), 'countersign-bench-sink-'));
const postgresServer = options.databases.includes('postgres') ? await describePostgresServer() : null;
const machine = {
  cores: os.cpus().length,
  cpu: os.cpus()[0]?.model,
  node: process.version,
  ...(postgresServer ? { postgres: postgresServer } : {}),
};
const onMachine = `${machine.cores} cores, Node ${machine.node}${postgresServer ? `, ${postgresServer}` : ''}`;
if (options.scale) {
  const scaled: ScaleResult[] = [];
  try {
    for (const database of options.databases) {
      const writeDir = options.sink === 'disk' ? { writeDir: path.join(scratch, database) } : {};
      scaled.push(
        await runInChild<ScaleResult>({ scale: { database, ...options.scale, pool: options.scalePool, ...writeDir } }, `${database} scale`),
      );
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`\nCountersign at scale: ${options.scale.recipients} recipients through the API, ${onMachine}\n`);
  console.log(formatScale(scaled));
  writeFileSync(SCALE_RESULTS_FILE, `${JSON.stringify({ at: new Date().toISOString(), machine, options, scaled }, null, 2)}\n`);
  console.log(`\nfigures written to ${SCALE_RESULTS_FILE}`);
  process.exit(0);
}
const results: SuiteResult[] = [];
let splits: SplitResult[] = [];
// The suite's figures are printed before the split shape runs, and kept if it fails: a default
// run's twenty minutes are not lost to its last step.
let splitFailure: string | undefined;
try {
  for (const database of options.databases) {
    const suite = {
      database,
      messages: options.messages,
      recipients: options.recipients,
      pools: options.pools,
      scalePool: options.scalePool,
      ...(options.sink === 'disk' ? { writeDir: path.join(scratch, database) } : {}),
      ...(options.profile ? { profileDir: PROFILE_DIR } : {}),
    };
    results.push(await runInChild<SuiteResult>({ suite }, database));
  }
  console.log(
    `\nCountersign benchmark: ${options.messages} messages, ${options.recipients} recipients, sink ${options.sink === 'disk' ? 'writing each message to disk' : 'counting only'}, ${onMachine}\n`,
  );
  console.log(formatTable(results));
  for (const result of results) {
    for (const pool of result.pools.filter((p) => p.profile))
      console.log(
        `\n[${result.database}] where the pipeline's main thread went at pool ${pool.pool} (${pool.profile!.file}):\n${formatProfile(pool.profile!)}`,
      );
  }
  if (options.workers.length > 0) {
    const split = { workers: options.workers, messages: options.splitMessages, pool: options.scalePool, rate: options.splitRate };
    try {
      splits = await runInChild<SplitResult[]>(
        { split: { ...split, ...(options.sink === 'disk' ? { writeDir: path.join(scratch, 'split') } : {}) } },
        'split shape',
      );
    } catch (error) {
      splitFailure = (error as Error).message;
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

if (splits.length > 0) {
  console.log(
    `\nSplit shape on PostgreSQL: one API process and N worker processes from the build, pool ${options.scalePool} each, ${options.splitMessages} messages a send\n`,
  );
  console.log(formatSplit(splits));
}
writeFileSync(
  RESULTS_FILE,
  `${JSON.stringify({ at: new Date().toISOString(), machine, options, results, splits, ...(splitFailure ? { splitFailure } : {}) }, null, 2)}\n`,
);
console.log(`\nfigures written to ${RESULTS_FILE}`);
if (splitFailure) {
  console.error(`\nthe split shape failed: ${splitFailure}`);
  process.exitCode = 1;
}
