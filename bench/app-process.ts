import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { forkBeside } from '../src/fork-beside.js';

/** A port nothing listens on now, for a process about to start. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export type Role = 'all' | 'api' | 'workers';

/** What each role logs once it is ready. */
const READY: Record<Role, RegExp[]> = {
  all: [/API and pages on/, /workers running/],
  api: [/API and pages on/],
  workers: [/workers running/],
};

/**
 * A Countersign process as a deployment runs it, `main all`, `main api` or `main workers`: from the build
 * with the benchmark's own node flags (the start scripts' heap bound), or from the sources through tsx.
 */
export class AppProcess {
  private constructor(
    readonly role: Role,
    private readonly child: ChildProcess,
  ) {}

  static async start(role: Role, env: Record<string, string>): Promise<AppProcess> {
    const child = forkBeside(import.meta.url, '../src/main', [role], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (READY[role].every((line) => line.test(output))) resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => reject(new Error(`the ${role} process exited with code ${code}:\n${output}`)));
    });
    // From here on only failures matter to the benchmark's reader.
    child.stdout!.resume();
    child.stderr!.on('data', (chunk: Buffer) => process.stderr.write(`[${role} ${child.pid}] ${chunk.toString()}`));
    return new AppProcess(role, child);
  }

  /** The most resident memory the process has held so far (Linux's VmHWM), in MB; null elsewhere. */
  peakRssMb(): number | null {
    try {
      const kb = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.child.pid}/status`, 'utf8'))?.[1];
      return kb ? Number(kb) / 1024 : null;
    } catch {
      return null;
    }
  }

  /** kill -9: the process dies mid-work, with whatever it holds. */
  killHard(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGKILL');
    return exited;
  }

  /** SIGTERM, as a process manager stops it, and SIGKILL if it has not exited after `graceMs`; resolves once it has exited. */
  async stop(graceMs = 20_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`[${this.role} ${this.child.pid}] still running ${graceMs} ms after SIGTERM: killed\n`);
      this.child.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(timer);
  }
}
