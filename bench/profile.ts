import { readFileSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of V8's .cpuprofile format (also what `node --cpu-prof` writes) the summary reads. */
interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }[];
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileSummary {
  /** Sampled milliseconds, idle included. */
  totalMs: number;
  idleMs: number;
  /** Where the busy time went, by who owns the code: a package, Countersign, node itself, the garbage collector. */
  byOwner: { owner: string; ms: number; share: number }[];
  /** The frames with the most self time. */
  topFrames: { frame: string; owner: string; ms: number; share: number }[];
}

/** Profiles this process's main thread while `work` runs and writes the .cpuprofile to `file`. */
export async function profiled<T>(file: string, work: () => Promise<T>): Promise<{ result: T; summary: ProfileSummary }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    return { result, summary: summariseProfile(profile as CpuProfile) };
  } finally {
    session.disconnect();
  }
}

/** node_modules/<package> (scoped too), Countersign's own folders, node's internals, or what V8 reports as such. */
function ownerOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inPackage) return inPackage[1]!;
  if (url.startsWith('node:')) return 'node';
  const own = /\/(src\/[^/]+|src|workers|bench)\/[^/]+$/.exec(url);
  return own ? `countersign ${own[1]}` : url;
}

/** Self time per frame and per owner, from the samples and their time deltas. */
export function summariseProfile(profile: CpuProfile, top = 25): ProfileSummary {
  const selfMs = new Map<number, number>();
  const samples = profile.samples ?? [];
  samples.forEach((id, i) => selfMs.set(id, (selfMs.get(id) ?? 0) + (profile.timeDeltas?.[i] ?? 0) / 1000));
  const frames = new Map<string, { owner: string; ms: number }>();
  const owners = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const node of profile.nodes) {
    const ms = selfMs.get(node.id) ?? 0;
    if (ms === 0) continue;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const owner = ownerOf(url, functionName);
    const frame =
      `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*?\/(src|workers|bench|dist)\//, '$1/')}:${lineNumber + 1}` : ''}`.trim();
    const entry = frames.get(frame) ?? { owner, ms: 0 };
    entry.ms += ms;
    frames.set(frame, entry);
    owners.set(owner, (owners.get(owner) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs || 1;
  const share = (ms: number) => ms / busyMs;
  return {
    totalMs,
    idleMs,
    byOwner: [...owners].map(([owner, ms]) => ({ owner, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    topFrames: [...frames]
      .map(([frame, { owner, ms }]) => ({ frame, owner, ms, share: share(ms) }))
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top),
  };
}

export function formatProfile(summary: ProfileSummary, owners = 12): string {
  const pct = (share: number) => `${(share * 100).toFixed(1).padStart(5)}%`;
  const busy = summary.totalMs - summary.idleMs;
  return [
    `busy ${(busy / 1000).toFixed(2)} s of ${(summary.totalMs / 1000).toFixed(2)} s sampled (${pct(busy / (summary.totalMs || 1))} of the main thread)`,
    'by owner (self time):',
    ...summary.byOwner.slice(0, owners).map((o) => `  ${pct(o.share)}  ${o.owner}`),
    'top frames (self time):',
    ...summary.topFrames.map((f) => `  ${pct(f.share)}  ${f.frame}  [${f.owner}]`),
  ].join('\n');
}

// As a script: summarises .cpuprofile files, e.g. those `node --cpu-prof` writes for a worker process.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2);
  if (files.length === 0) {
    console.error('usage: node dist/bench/profile.js FILE.cpuprofile...');
    process.exit(2);
  }
  for (const file of files)
    console.log(`${file}\n${formatProfile(summariseProfile(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile))}\n`);
}
