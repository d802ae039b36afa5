import { createWriteStream, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer, type SMTPServerDataStream } from 'smtp-server';

/** Monotonic milliseconds, comparable across processes on one machine (CLOCK_MONOTONIC). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** An HTTP response with the monotonic times its request left and its answer arrived. */
export interface TimedResponse {
  status: number;
  text: string;
  requestedAt: number;
  returnedAt: number;
}

export interface SinkStats {
  /** Messages whose recipient is in the counted audience. */
  messages: number;
  distinctRecipients: number;
  /** Recipients that received more than one message. */
  duplicates: number;
  /** Messages to anyone else (approval requests and other notifications). */
  other: number;
  firstAt: number | null;
  lastAt: number | null;
}

/**
 * An SMTP server that accepts everything and only counts: it drains each message
 * without parsing, so the sink is never the bottleneck of what it measures. Given a
 * folder, it writes each message to a file of its own before it answers 250, as a relay
 * that queues to disk does (Postfix's smtp-sink -d): the reply then waits for the write.
 */
export class CountingSink {
  #written = 0;
  #suffix = '';
  #perRecipient = new Map<string, number>();
  #arrivals: number[] = [];
  #other = 0;
  #waiters: { count: number; resolve: () => void }[] = [];
  readonly #server = new SMTPServer({
    disableReverseLookup: true,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    size: 25 * 1024 * 1024,
    onData: (stream, session, callback) => {
      void this.#drain(stream).then(
        () => {
          this.#record(session.envelope.rcptTo.map((r) => r.address.toLowerCase()));
          callback(null, '250 queued');
        },
        (error: Error) => callback(error),
      );
    },
  });

  constructor(private readonly writeDir?: string) {
    if (writeDir) mkdirSync(writeDir, { recursive: true });
    // A sender killed with -9 resets its connections: a relay carries on, and so does the sink.
    this.#server.on('error', () => {});
  }

  async #drain(stream: SMTPServerDataStream): Promise<void> {
    if (!this.writeDir) {
      stream.resume();
      await new Promise((resolve) => stream.once('end', resolve));
      return;
    }
    await pipeline(stream, createWriteStream(path.join(this.writeDir, `${++this.#written}.eml`)));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    return (this.#server.server.address() as { port: number }).port;
  }

  /** Starts a new count of messages to recipients whose address ends with `suffix`. */
  reset(suffix: string): void {
    if (this.writeDir) {
      rmSync(this.writeDir, { recursive: true, force: true });
      mkdirSync(this.writeDir, { recursive: true });
    }
    this.#suffix = suffix.toLowerCase();
    this.#perRecipient = new Map();
    this.#arrivals = [];
    this.#other = 0;
  }

  stats(): SinkStats {
    let duplicates = 0;
    for (const n of this.#perRecipient.values()) if (n > 1) duplicates += 1;
    return {
      messages: this.#arrivals.length,
      distinctRecipients: this.#perRecipient.size,
      duplicates,
      other: this.#other,
      firstAt: this.#arrivals[0] ?? null,
      lastAt: this.#arrivals.at(-1) ?? null,
    };
  }

  /** Counted messages that finished arriving after `at` (monotonic ms). */
  arrivalsAfter(at: number): number {
    return this.#arrivals.filter((t) => t > at).length;
  }

  waitFor(count: number): Promise<void> {
    if (this.#arrivals.length >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  close(): Promise<void> {
    if (this.writeDir) rmSync(this.writeDir, { recursive: true, force: true });
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  #record(recipients: string[]): void {
    const at = monotonicMs();
    for (const address of recipients) {
      if (!address.endsWith(this.#suffix)) {
        this.#other += 1;
        continue;
      }
      this.#perRecipient.set(address, (this.#perRecipient.get(address) ?? 0) + 1);
      this.#arrivals.push(at);
    }
    this.#waiters = this.#waiters.filter((waiter) => {
      if (this.#arrivals.length < waiter.count) return true;
      waiter.resolve();
      return false;
    });
  }
}
