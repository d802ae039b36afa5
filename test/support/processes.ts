import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
export const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');

export interface Launched {
  child: ChildProcess;
  /** `ready` once the ready line appears, or the exit code if the process ends first. */
  settled: Promise<{ ready: boolean; code?: number | null }>;
  exited: Promise<number | null>;
  output(): string;
}

/**
 * Runs `src/main.ts` from the sources, `node --import tsx` (what `npm start` runs once built, without
 * a build per test): the tsx CLI would put a wrapper process in between, whose signal relay allows the child 30 ms to answer and SIGKILLs it (exit 143) when a
 * loaded machine is slower, and which a kill -9 of the wrapper would leave running. Given `builtMain`,
 * runs that build's main as `npm run start:api` does, from a working directory unrelated to it.
 * `settled` resolves when `ready` appears or the process exits.
 */
export function launch(args: string[], env: NodeJS.ProcessEnv, options: { ready?: string; builtMain?: string } = {}): Launched {
  const ready = options.ready ?? 'API and pages on';
  const { builtMain } = options;
  const command = builtMain ? [builtMain, ...args] : ['--import', pathToFileURL(require.resolve('tsx')).href, 'src/main.ts', ...args];
  const child = spawn(process.execPath, command, { cwd: builtMain ? tmpdir() : ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const settled = new Promise<{ ready: boolean; code?: number | null }>((resolve) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(ready)) resolve({ ready: true });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => resolve({ ready: false, code }));
  });
  return { child, settled, exited, output: () => output };
}

/** Runs a command to its end without blocking the event loop, so a file's concurrent tests keep going meanwhile. */
export function runToEnd(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (status) => resolve({ status, stdout, stderr }));
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export type Role = 'api' | 'workers';
const READY: Record<Role, string> = { api: 'API and pages on', workers: 'workers running' };

export interface CountersignProcess {
  role: Role;
  child: ChildProcess;
  output(): string;
  /** The exit code: 0 after a clean SIGTERM stop, null after a kill. */
  exited: Promise<number | null>;
  /** SIGTERM, as a process manager stops it; SIGKILL if it has not exited 15 s later. */
  stop(): Promise<number | null>;
  /** kill -9: no clean-up of any kind. */
  kill(): Promise<void>;
}

/**
 * Real `countersign api` and `countersign workers` processes, as a scaled-out deployment runs
 * them. Every process started is remembered, so `stopAll` in an afterAll leaves none behind
 * even when a test failed half-way.
 */
export class Processes {
  readonly #started: CountersignProcess[] = [];

  async start(role: Role, env: Record<string, string>): Promise<CountersignProcess> {
    const launched = launch([role], { ...process.env, ...env }, { ready: READY[role] });
    const { child, exited } = launched;
    const started: CountersignProcess = {
      role,
      child,
      output: launched.output,
      exited,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        const code = await exited;
        clearTimeout(timer);
        return code;
      },
      kill: async () => {
        child.kill('SIGKILL');
        await exited;
      },
    };
    this.#started.push(started);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const settled = await launched.settled;
    clearTimeout(timer);
    if (!settled.ready) throw new Error(`${role} process exited with ${settled.code} before it was ready:\n${launched.output()}`);
    return started;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.#started.map((p) => p.stop()));
  }
}
