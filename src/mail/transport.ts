import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer/index.js';

export interface SendReceipt {
  response: string;
}

export interface Mailer {
  readonly kind: 'smtp' | 'outbox';
  send(message: Mail.Options): Promise<SendReceipt>;
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
  return options.smtpUrl ? smtpMailer(options.smtpUrl, options.maxConnections, options.socketTimeoutMs ?? 60_000) : outboxMailer(options.outboxDir);
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
  return {
    kind: 'smtp',
    send: async (message) => {
      const info = await transport.sendMail(message);
      return { response: String(info.response ?? '250 accepted') };
    },
    close: () => transport.close(),
  };
}

/** The embedded default: each message becomes an .eml file a person can open. */
function outboxMailer(dir: string): Mailer {
  mkdirSync(dir, { recursive: true });
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true, newline: 'unix' });
  return {
    kind: 'outbox',
    send: async (message) => {
      const info = await transport.sendMail(message);
      const id = String(info.messageId).replace(/[^A-Za-z0-9.@_-]/g, '');
      const file = path.join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${id}.eml`);
      writeFileSync(file, info.message as Buffer);
      return { response: `written to ${file}` };
    },
    close: () => transport.close(),
  };
}
