import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';

export interface ReceivedMessage {
  receivedAt: Date;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

type Fault = { code: number; message: string } | null;

export interface SinkOptions {
  /** Refuse a recipient at RCPT TO (e.g. 550 for permanent, 450 for temporary). */
  rcptFault?: (address: string, attempt: number) => Fault;
  /** Hold each message this long before answering DATA: a slow relay. */
  dataDelayMs?: number;
  /** Hold a message to these recipients inside its SMTP transaction until the test releases it. */
  holdData?: (address: string) => Promise<void> | undefined;
}

/** A real SMTP server on loopback that keeps and parses everything that arrives. */
export class SmtpSink {
  readonly messages: ReceivedMessage[] = [];
  readonly #attempts = new Map<string, number>();
  readonly #waiters: { check: () => boolean; resolve: () => void }[] = [];
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
      onRcptTo: (address, _session, callback) => {
        const email = address.address.toLowerCase();
        const attempt = (this.#attempts.get(email) ?? 0) + 1;
        this.#attempts.set(email, attempt);
        const fault = this.options.rcptFault?.(email, attempt);
        if (fault) {
          const error = new Error(fault.message) as Error & { responseCode: number };
          error.responseCode = fault.code;
          return callback(error);
        }
        callback();
      },
      onData: (stream: SMTPServerDataStream, session: SMTPServerSession, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks);
          const envelopeTo = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
          const finish = async () => {
            if (this.options.dataDelayMs) await new Promise((r) => setTimeout(r, this.options.dataDelayMs));
            const holds = envelopeTo.map((address) => this.options.holdData?.(address));
            this.#notify();
            await Promise.all(holds);
            const parsed = await simpleParser(raw);
            this.messages.push({ receivedAt: new Date(), envelopeTo, raw, parsed });
            this.#notify();
            callback(null, 'queued');
          };
          finish().catch((error: Error) => callback(error));
        });
      },
    });
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', () => resolve()));
    this.port = (this.#server.server.address() as { port: number }).port;
    return this;
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

  /** Resolves as soon as the condition holds; the timeout is only a guard against a hung test. */
  waitUntil(check: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; ${this.messages.length} messages arrived`)), timeoutMs);
      this.#waiters.push({ check, resolve: () => { clearTimeout(timer); resolve(); } });
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
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
