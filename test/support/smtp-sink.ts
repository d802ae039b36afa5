import type { Socket } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
  receivedAt: Date;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

/** A message whose connection the sink cut before its final dot arrived. */
export interface CutOffMessage {
  envelopeTo: string[];
  bytes: number;
}

type Fault = { code: number; message: string } | null;

/**
 * What the server does once a message's body starts arriving:
 * - `drop-in-body`: closes the connection at the first body bytes, so the final dot never arrives;
 * - `drop-after-dot`: takes the whole message, then closes the connection without a reply;
 * - `reset-after-dot`: takes the whole message, then resets the connection (TCP RST);
 * - `no-reply`: takes the whole message and never answers;
 * - a reply: refuses the whole message with it.
 */
export type DataFault = 'drop-in-body' | 'drop-after-dot' | 'reset-after-dot' | 'no-reply' | Fault;

export interface SinkOptions {
  /** Answer a new connection with this reply instead of the greeting and close it, or `close` it without a word. */
  connectFault?: (connection: number) => Fault | 'close';
  /** Refuse the sender at MAIL FROM. */
  mailFault?: (sender: string) => Fault;
  /** Refuse a recipient at RCPT TO (e.g. 550 for permanent, 450 for temporary), or `drop` the connection there without a reply. */
  rcptFault?: (address: string, attempt: number) => Fault | 'drop';
  /** Fail a message to this recipient after the DATA command was accepted; `attempt` counts its RCPT TOs. */
  dataFault?: (address: string, attempt: number) => DataFault;
  /** Hold each message this long before answering DATA: a slow relay. */
  dataDelayMs?: number;
  /** Hold a message to these recipients inside its SMTP transaction until the test releases it. */
  holdData?: (address: string) => Promise<void> | undefined;
}

/**
 * A real SMTP server on loopback that keeps and parses everything that arrives. `messages`
 * holds every message the server took whole and did not refuse, whether or not it answered.
 */
export class SmtpSink {
  readonly messages: ReceivedMessage[] = [];
  readonly cutOff: CutOffMessage[] = [];
  /** Body chunks received, whole messages or not: a client's body can arrive while its final dot waits. */
  bodyChunks = 0;
  readonly #attempts = new Map<string, number>();
  readonly #waiters: { check: () => boolean; resolve: () => void }[] = [];
  // Keyed by the client's port: smtp-server hands its handlers the session, not the socket.
  readonly #sockets = new Map<number, Socket>();
  #connections = 0;
  #server!: SMTPServer;
  port = 0;

  constructor(private readonly options: SinkOptions = {}) {}

  async start(): Promise<this> {
    this.#server = new SMTPServer({
      disableReverseLookup: true,
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      size: 25 * 1024 * 1024,
      onConnect: (session, callback) => {
        this.#connections += 1;
        const fault = this.options.connectFault?.(this.#connections);
        if (fault === 'close') this.#socketOf(session)?.destroy();
        else callback(fault ? replyError(fault) : undefined);
      },
      onMailFrom: (address, _session, callback) => {
        const fault = this.options.mailFault?.(address.address.toLowerCase());
        callback(fault ? replyError(fault) : undefined);
      },
      onRcptTo: (address, session, callback) => {
        const email = address.address.toLowerCase();
        const attempt = (this.#attempts.get(email) ?? 0) + 1;
        this.#attempts.set(email, attempt);
        const fault = this.options.rcptFault?.(email, attempt);
        if (fault === 'drop') this.#socketOf(session)?.destroy();
        else callback(fault ? replyError(fault) : undefined);
      },
      onData: (stream: SMTPServerDataStream, session: SMTPServerSession, callback) => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
        const fault =
          envelopeTo.map((address) => this.options.dataFault?.(address, this.#attempts.get(address) ?? 1)).find(Boolean) ?? null;
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          this.bodyChunks += 1;
          this.#notify();
          if (fault !== 'drop-in-body' || chunks.length > 1) return;
          this.#socketOf(session)?.destroy();
          this.cutOff.push({ envelopeTo, bytes: chunk.length });
          this.#notify();
        });
        stream.on('end', () => {
          if (fault === 'drop-in-body') return;
          const raw = Buffer.concat(chunks);
          const finish = async () => {
            if (this.options.dataDelayMs) await new Promise((r) => setTimeout(r, this.options.dataDelayMs));
            const holds = envelopeTo.map((address) => this.options.holdData?.(address));
            this.#notify();
            await Promise.all(holds);
            if (typeof fault === 'object' && fault) return callback(replyError(fault));
            const parsed = await simpleParser(raw);
            this.messages.push({ receivedAt: new Date(), envelopeTo, raw, parsed });
            this.#notify();
            if (fault === 'drop-after-dot') this.#socketOf(session)?.destroy();
            else if (fault === 'reset-after-dot') this.#socketOf(session)?.resetAndDestroy();
            else if (fault !== 'no-reply') callback(null, 'queued');
          };
          finish().catch((error: Error) => callback(error));
        });
      },
    });
    this.#server.server.on('connection', (socket: Socket) => {
      const port = socket.remotePort!;
      this.#sockets.set(port, socket);
      socket.once('close', () => this.#sockets.delete(port));
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.#server.server.address() as { port: number }).port;
    return this;
  }

  #socketOf(session: SMTPServerSession): Socket | undefined {
    return this.#sockets.get(session.remotePort);
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  to(address: string): ReceivedMessage[] {
    return this.messages.filter((m) => m.envelopeTo.includes(address.toLowerCase()));
  }

  withSubject(pattern: RegExp | string): ReceivedMessage[] {
    return this.messages.filter((m) => (typeof pattern === 'string' ? m.parsed.subject === pattern : pattern.test(m.parsed.subject ?? '')));
  }

  /** How many connections the server has accepted. */
  get connections(): number {
    return this.#connections;
  }

  /** How many times a client offered this recipient at RCPT TO: each is an attempt to deliver to it. */
  rcptAttempts(address: string): number {
    return this.#attempts.get(address.toLowerCase()) ?? 0;
  }

  /** Resolves as soon as the condition holds; the timeout is only a guard against a hung test. */
  waitUntil(check: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timed out waiting for ${what}; ${this.messages.length} messages arrived`)),
        timeoutMs,
      );
      this.#waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) {
      if (waiter.check()) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  async stop(): Promise<void> {
    // A connection left waiting for a reply that never comes would hold close() for its timeout.
    for (const socket of this.#sockets.values()) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

function replyError(fault: NonNullable<Fault>): Error & { responseCode: number } {
  return Object.assign(new Error(fault.message), { responseCode: fault.code });
}
