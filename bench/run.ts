import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { forkBeside } from '../src/fork-beside.js';
import { PACKAGE_ROOT } from '../src/package-root.js';
import { parseOptions } from './options.js';
import { formatProfile } from './profile.js';
import { formatTable } from './report.js';
import type { SuiteOptions, SuiteResult } from './suite.js';

// In the source folder, also when the benchmark runs from dist/bench.
const RESULTS_FILE = path.join(PACKAGE_ROOT, 'bench', 'results.json');
const PROFILE_DIR = path.join(PACKAGE_ROOT, 'bench', 'profiles');

function runInChild(options: Omit<SuiteOptions, 'log'>): Promise<SuiteResult> {
  const child = forkBeside(import.meta.url, 'suite-process');
  child.send(options);
  return new Promise((resolve, reject) => {
    child.once('message', (message: { result?: SuiteResult; error?: string }) => (message.result ? resolve(message.result) : reject(new Error(message.error))));
    child.once('exit', (code) => reject(new Error(`the ${options.database} run exited with code ${code}`)));
  });
}

const options = parseOptions(process.argv.slice(2));
if (options.profile) mkdirSync(PROFILE_DIR, { recursive: true });
const scratch = mkdtempSync(path.join(os.tmpdir(), 'countersign-bench-sink-'));
const results: SuiteResult[] = [];
try {
  for (const database of options.databases) {
    results.push(
      await runInChild({
        database,
        messages: options.messages,
        recipients: options.recipients,
        pools: options.pools,
        scalePool: options.scalePool,
        ...(options.sink === 'disk' ? { writeDir: path.join(scratch, database) } : {}),
        ...(options.profile ? { profileDir: PROFILE_DIR } : {}),
      }),
    );
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

console.log(`\nCountersign benchmark: ${options.messages} messages, ${options.recipients} recipients, sink ${options.sink === 'disk' ? 'writing each message to disk' : 'counting only'}, ${os.cpus().length} cores, Node ${process.version}\n`);
console.log(formatTable(results));
for (const result of results) {
  for (const pool of result.pools.filter((p) => p.profile)) console.log(`\n[${result.database}] where the pipeline's main thread went at pool ${pool.pool} (${pool.profile!.file}):\n${formatProfile(pool.profile!)}`);
}
writeFileSync(RESULTS_FILE, `${JSON.stringify({ at: new Date().toISOString(), machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, node: process.version }, options, results }, null, 2)}\n`);
console.log(`\nfigures written to ${RESULTS_FILE}`);
