import nodemailer from 'nodemailer';
import { AUDIENCE_DOMAIN, composedFor, recipient } from './message.js';
import { monotonicMs } from './sink.js';
import type { SinkClient } from './sink-client.js';

export interface BaselineResult {
  messages: number;
  seconds: number;
  perSecond: number;
  arrivedOnce: boolean;
}

/**
 * Raw nodemailer: the same pool options as the application's transport, the same
 * message, nothing else. It is the most the relay takes from one process.
 */
export async function runBaseline(sink: SinkClient, options: { messages: number; maxConnections: number }): Promise<BaselineResult> {
  await sink.reset(`@${AUDIENCE_DOMAIN}`);
  const transport = nodemailer.createTransport({
    url: sink.url,
    pool: true,
    maxConnections: options.maxConnections,
    maxMessages: 10_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const template = composedFor(0);
  // A bounded window of sends in hand keeps every pooled connection busy without queueing all N at once.
  const window = options.maxConnections * 4;
  let next = 0;
  const started = monotonicMs();
  const sender = async () => {
    while (next < options.messages) {
      const i = next++;
      const { email } = recipient(i);
      await transport.sendMail({
        ...template,
        to: email,
        messageId: `<bench.${i}@example.com>`,
        envelope: { from: template.envelope!.from, to: [email] },
      });
    }
  };
  await Promise.all(Array.from({ length: window }, sender));
  await sink.waitFor(options.messages, 60_000);
  const seconds = (monotonicMs() - started) / 1000;
  transport.close();
  const stats = await sink.stats();
  return {
    messages: options.messages,
    seconds,
    perSecond: options.messages / seconds,
    arrivedOnce: stats.messages === options.messages && stats.duplicates === 0,
  };
}
