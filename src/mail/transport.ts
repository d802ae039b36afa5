import { constants, mkdirSync, writeFileSync } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';
import MimeNode from 'nodemailer/lib/mime-node';
import type { OutgoingMessage } from './compose.js';

export interface SendReceipt {
  response: string;
}

/** How far the message body had gone when a send failed; see `BodyTracker`. */
export type BodyStage = 'not_started' | 'partial' | 'complete';

export interface SendOptions {
  /**
   * Called once a connection is free for this message, as its SMTP transaction starts. Over
   * SMTP the envelope and body go while it runs and only the final dot, which alone can deliver
   * the message, waits for its answer: false abandons the transaction before the dot.
   */
  begin?: () => Promise<boolean>;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  /** Resolves with `null` when `begin` said no; a failure carries `bodyStage`. */
  send(message: Mail.Options | OutgoingMessage, options?: SendOptions): Promise<SendReceipt | null>;
  /** Rejects when mail could not go out now: the relay does not connect and greet (and log in), or the outbox is not writable. */
  verify(): Promise<void>;
  close(): void;
}

export interface MailerOptions {
  smtpUrl?: string;
  maxConnections: number;
  outboxDir: string;
  /** How long a silent server is waited for, e.g. for its reply to the final dot; 60 s unless set. */
  socketTimeoutMs?: number;
}

export function createMailer(options: MailerOptions): Mailer {
  return options.smtpUrl
    ? smtpMailer(options.smtpUrl, options.maxConnections, options.socketTimeoutMs ?? 60_000)
    : outboxMailer(options.outboxDir, options.maxConnections);
}

/**
 * One permit per pooled SMTP connection. A message holds one from the moment its transaction is
 * about to start until its reply: so no message is ever "started" while it waits for a connection.
 */
class ConnectionSlots {
  #free: number;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  async acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) return next();
    this.#free += 1;
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await work();
    } finally {
      this.release();
    }
  }
}

/**
 * The most of a message body handed on at once. A message arrives as one piece (its MIME text is
 * written whole); cut into slices and pushed only as the connection reads them, the body's end is
 * reached only once the socket has taken the rest, so `complete` still means "all but the dot sent".
 */
const BODY_SLICE_BYTES = 16 * 1024;

/**
 * Watches how far the SMTP connection has read a message's body, and holds the body's end until
 * `mayFinish` answers. nodemailer starts reading the body only once the server has accepted the
 * envelope and answered DATA with 354, and writes the final dot once it has read all of it. So a
 * connection lost while the body was `not_started` or `partial` cannot have delivered it (safe to
 * retry); only one lost once it was `complete` may have. A `mayFinish` of false ends the body with
 * an error instead: nodemailer then closes the connection without the dot, and the server keeps nothing.
 */
class BodyTracker {
  stage: BodyStage = 'not_started';

  constructor(private readonly mayFinish: Promise<boolean>) {}

  wrap(input: Readable): Readable {
    const slices: Buffer[] = [];
    let inputEnded = false;
    let endReleased = false;
    // Pushes what is waiting until the connection has enough; the rest goes on its next read.
    const pump = () => {
      while (slices.length > 0) if (!output.push(slices.shift())) return;
      if (!inputEnded) return void input.resume();
      if (endReleased) return;
      endReleased = true;
      this.mayFinish.then(
        (go) => (go ? output.push(null) : output.destroy(new Error('the message may not go: abandoned before its final dot'))),
        (error: unknown) => output.destroy(error as Error),
      );
    };
    const output = new Readable({
      read: () => {
        if (this.stage === 'not_started') {
          this.stage = 'partial';
          input.on('data', (chunk: Buffer) => {
            input.pause();
            for (let at = 0; at < chunk.length; at += BODY_SLICE_BYTES) slices.push(chunk.subarray(at, at + BODY_SLICE_BYTES));
            pump();
          });
          input.once('end', () => {
            inputEnded = true;
            pump();
          });
          input.once('error', (error) => output.destroy(error));
        } else pump();
      },
    });
    output.once('end', () => (this.stage = 'complete'));
    return output;
  }
}

type TrackedOptions = Mail.Options & { bodyTracker?: BodyTracker };

function isWrittenWhole(message: Mail.Options | OutgoingMessage): message is OutgoingMessage {
  return typeof message.raw === 'string' && Boolean(message.envelope) && typeof message.messageId === 'string';
}

/** What nodemailer's pool reads of a message, as its transport plugins get it: the envelope, the Message-ID, the text. */
interface PoolMessage {
  data: Record<string, never>;
  message: {
    getEnvelope(): MimeNode.Envelope;
    messageId(): string;
    getHeader(key: string): string | undefined;
    createReadStream(): Readable;
  };
}

type PoolTransporter = { send(mail: PoolMessage, callback: (error: Error | null, info?: { response?: string }) => void): void };

/**
 * nodemailer's own envelope parsing and normalisation, so the envelope names exactly whom its
 * composer would, without a MIME tree for each message. It is synchronous, so one node serves.
 */
const envelopeNormaliser = new MimeNode();

/**
 * A message written whole goes straight to the pool's transporter, as nodemailer hands a
 * composed message to a transport: its `sendMail` would first run the plugin chain and build a
 * MIME tree and a stream pipeline around text that is already final (a tenth of the sending
 * process's CPU at bulk rates).
 */
function poolMessage(message: OutgoingMessage, tracker: BodyTracker): PoolMessage {
  const envelope = envelopeNormaliser.setEnvelope(message.envelope).getEnvelope();
  const text = Buffer.from(message.raw);
  return {
    data: {},
    message: {
      getEnvelope: () => envelope,
      messageId: () => message.messageId,
      getHeader: (key) => (key.toLowerCase() === 'message-id' ? message.messageId : undefined),
      createReadStream: () => tracker.wrap(Readable.from([text], { objectMode: false })),
    },
  };
}

function smtpMailer(url: string, maxConnections: number, socketTimeoutMs: number): Mailer {
  const transport = nodemailer.createTransport({
    url,
    pool: true,
    maxConnections,
    // Bulk sends reuse each connection for many messages rather than reconnecting every 100.
    maxMessages: 10_000,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: socketTimeoutMs,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  transport.use('stream', (mail, done) => {
    const tracker = (mail.data as TrackedOptions).bodyTracker;
    if (tracker) mail.message.processFunc((input: Readable) => tracker.wrap(input));
    done();
  });
  const transporter = transport.transporter as unknown as PoolTransporter;
  const slots = new ConnectionSlots(maxConnections);
  return {
    kind: 'smtp',
    send: (message, options = {}) =>
      slots.run(async () => {
        // The start's write overlaps the envelope and body instead of preceding the transaction.
        const mayFinish = options.begin ? options.begin() : Promise.resolve(true);
        mayFinish.catch(() => {});
        const bodyTracker = new BodyTracker(mayFinish);
        try {
          const info = isWrittenWhole(message)
            ? await new Promise<{ response?: string }>((resolve, reject) =>
                transporter.send(poolMessage(message, bodyTracker), (error, sent) => (error ? reject(error) : resolve(sent ?? {}))),
              )
            : await transport.sendMail({ ...message, bodyTracker } as TrackedOptions);
          return { response: String(info.response ?? '250 accepted') };
        } catch (error) {
          // A transaction can fail before `begin` answered: the caller hears of a start only if it was made.
          if (!(await mayFinish)) return null;
          if (error && typeof error === 'object') Object.assign(error, { bodyStage: bodyTracker.stage });
          throw error;
        }
      }),
    verify: async () => {
      await transport.verify();
    },
    close: () => transport.close(),
  };
}

/** The embedded default: each message becomes an .eml file a person can open. */
function outboxMailer(dir: string, slotCount: number): Mailer {
  mkdirSync(dir, { recursive: true });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  const slots = new ConnectionSlots(slotCount);
  return {
    kind: 'outbox',
    send: (message, options = {}) =>
      slots.run(async () => {
        if (options.begin && !(await options.begin())) return null;
        const info = await transport.sendMail(message);
        const id = String(info.messageId).replace(/[^A-Za-z0-9.@_-]/g, '');
        const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
        writeFileSync(file, info.message as Buffer);
        return { response: `written to ${file}` };
      }),
    verify: () => access(dir, constants.W_OK),
    close: () => transport.close(),
  };
}
