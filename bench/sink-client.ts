import type { ChildProcess } from 'node:child_process';
import { forkBeside } from '../src/fork-beside.js';
import type { SinkStats, TimedResponse } from './sink.js';
import type { SinkRequest } from './sink-process.js';

type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;
type Request = WithoutId<SinkRequest>;

/** The parent's handle on the counting sink running in its own process. */
export class SinkClient {
  #nextId = 1;
  readonly #pending = new Map<number, (result: unknown) => void>();

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
  ) {
    child.on('message', (message: { id: number; result: unknown }) => {
      this.#pending.get(message.id)?.(message.result);
      this.#pending.delete(message.id);
    });
  }

  /** `writeDir`: write each message to a file there before accepting it (see `CountingSink`). */
  static async start(writeDir?: string): Promise<SinkClient> {
    const child = forkBeside(import.meta.url, 'sink-process', writeDir ? [writeDir] : [], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (message: { ready: number }) => resolve(message.ready));
      child.once('exit', (code) => reject(new Error(`the SMTP sink exited with code ${code}`)));
    });
    return new SinkClient(child, `smtp://127.0.0.1:${port}`);
  }

  #call<T>(request: Request): Promise<T> {
    const id = this.#nextId++;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve as (result: unknown) => void);
      this.child.send({ ...request, id });
    });
  }

  /** The sink's process, whose CPU the machine's figures count apart. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  reset(suffix: string): Promise<void> {
    return this.#call({ op: 'reset', suffix });
  }

  /** A POST sent from the sink's process, timed there. */
  post(url: string, headers: Record<string, string>, body: unknown): Promise<TimedResponse> {
    return this.#call({ op: 'post', url, headers, body: JSON.stringify(body) });
  }

  stats(): Promise<SinkStats> {
    return this.#call({ op: 'stats' });
  }

  arrivalsAfter(at: number): Promise<number> {
    return this.#call({ op: 'arrivalsAfter', at });
  }

  /** Resolves once `count` counted messages have arrived; rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${count} messages at the sink`)), timeoutMs);
    });
    try {
      await Promise.race([this.#call({ op: 'waitFor', count }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.#call({ op: 'close' });
    await new Promise((resolve) => (this.child.exitCode === null ? this.child.once('exit', resolve) : resolve(null)));
  }
}
