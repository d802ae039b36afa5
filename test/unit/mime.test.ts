import nodemailer from 'nodemailer';
import type { ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareBody } from '../../src/mail/body.js';
import { BULK_HEADERS, composeMessage, listIdFor, renderMessage, type Addressee, type MessageContent } from '../../src/mail/compose.js';
import { createMailer, type Mailer } from '../../src/mail/transport.js';
import { SmtpSink } from '../support/smtp-sink.js';

// Countersign writes each message's MIME itself (src/mail/mime.ts). Each case goes to a real
// SMTP server twice, once as the worker sends it and once composed by nodemailer from the same
// parts, and both arrivals are parsed with mailparser: a recipient's client must see the same.

let sink: SmtpSink;
let mailer: Mailer;
let composer: ReturnType<typeof nodemailer.createTransport>;

beforeAll(async () => {
  sink = await new SmtpSink({}).start();
  mailer = createMailer({ smtpUrl: sink.url, maxConnections: 1, outboxDir: 'unused-by-smtp' });
  composer = nodemailer.createTransport({ url: sink.url });
});

afterAll(async () => {
  mailer.close();
  composer.close();
  await sink.stop();
});

interface Case {
  title: string;
  content: MessageContent;
  markdown: string;
  to: Omit<Addressee, 'messageId'>;
}

const CASES: Case[] = [
  {
    title: 'plain ASCII with a merge field',
    content: { subject: 'Canteen hours for {{firstName}}', fromAddress: 'comms@corp.example.com', fromName: 'Internal Comms' },
    markdown: 'Hello {{firstName}},\n\nThe canteen opens at **eight** on Monday.',
    to: { email: 'dana@corp.example.com', name: 'Dana Scully', fields: {}, replyToMessageId: null },
  },
  {
    title: 'accented names and subject, a quoted display name, a correction threaded on its original',
    content: { subject: 'Corrección: «política» de viajes', fromAddress: 'comms@corp.example.com', fromName: 'Comms, "Head Office"' },
    markdown:
      'Señora {{lastName}},\n\nEl límite es **150 €** por noche.\n\n.A line starting with a dot\n\nTrailing spaces   \n\n=_cs_ and =3D stay text.',
    to: { email: 'jose@corp.example.com', name: 'José Álvarez-Núñez', fields: {}, replyToMessageId: '<original.42@corp.example.com>' },
  },
  {
    title: 'mostly non-Latin text, a long subject that folds',
    content: {
      subject: '出張規定の訂正：ホテルの上限は一泊150ユーロです。その他の変更はありません。ご不明な点は出張チームまで',
      fromAddress: 'comms@corp.example.com',
      fromName: '社内広報',
    },
    markdown:
      '# 出張規定の訂正\n\n昨日お送りしたメッセージに誤りがありました。\n\n- 航空券：6時間未満はエコノミー\n- 列車：3時間以上はグリーン車可',
    to: { email: 'yuki@corp.example.com', name: '山田 由紀', fields: {}, replyToMessageId: null },
  },
  {
    title: 'a display name with control characters, long lines and a link',
    content: {
      subject: 'A subject that is rather long, long enough that nodemailer folds it over more than one line',
      fromAddress: 'comms@corp.example.com',
      fromName: 'Comms',
    },
    markdown: 'A [link](https://intranet.example.com/policy?a=1&b=2) and a very long line '.repeat(8),
    to: { email: 'tab@corp.example.com', name: 'Tab\tbed\u0001Name', fields: {}, replyToMessageId: null },
  },
  {
    title: 'a recipient at an internationalised domain, which the envelope must name as nodemailer does',
    content: { subject: 'Short', fromAddress: 'comms@corp.example.com', fromName: 'Comms' },
    markdown: 'Body.',
    to: { email: 'kai@bücher.example', name: 'Kai', fields: {}, replyToMessageId: null },
  },
  {
    title: 'no display name',
    content: { subject: 'Short', fromAddress: 'comms@corp.example.com', fromName: 'Comms' },
    markdown: 'Body.',
    to: { email: 'noname@corp.example.com', name: '', fields: {}, replyToMessageId: null },
  },
];

async function arrival(messageId: string): Promise<ParsedMail & { envelopeTo: string[] }> {
  await sink.waitUntil(() => sink.messages.some((m) => m.parsed.messageId === messageId), 10_000, `message ${messageId}`);
  const received = sink.messages.find((m) => m.parsed.messageId === messageId)!;
  return Object.assign(received.parsed, { envelopeTo: received.envelopeTo });
}

/** What a mail client shows and filters on. */
function seen(parsed: ParsedMail) {
  return {
    from: parsed.from?.value,
    to: Array.isArray(parsed.to) ? parsed.to.map((t) => t.value) : parsed.to?.value,
    subject: parsed.subject,
    inReplyTo: parsed.inReplyTo,
    references: parsed.references,
    text: parsed.text,
    html: parsed.html,
    headers: ['auto-submitted', 'x-auto-response-suppress', 'precedence', 'list-id'].map((key) => [key, parsed.headers.get(key)]),
  };
}

describe('the MIME a worker writes', () => {
  it.each(CASES.map((c, i) => [c.title, c, i] as const))('reads as nodemailer composed it: %s', async (_title, c, i) => {
    const body = prepareBody(c.markdown);
    const ours = `<ours.${i}@corp.example.com>`;
    const theirs = `<theirs.${i}@corp.example.com>`;
    await mailer.send(composeMessage(c.content, body, { ...c.to, messageId: ours }));
    const rendered = renderMessage(c.content, body, c.to);
    const threading = c.to.replyToMessageId ? { inReplyTo: c.to.replyToMessageId, references: [c.to.replyToMessageId] } : {};
    await composer.sendMail({
      from: rendered.from,
      to: c.to.name ? { name: c.to.name, address: c.to.email } : c.to.email,
      subject: rendered.subject,
      html: rendered.html,
      text: rendered.text,
      messageId: theirs,
      headers: { ...BULK_HEADERS, 'List-Id': { prepared: true, value: listIdFor(c.content.fromAddress) } },
      ...threading,
    });
    const [mine, nodemailers] = [await arrival(ours), await arrival(theirs)];
    expect(seen(mine)).toEqual(seen(nodemailers));
    expect(mine.envelopeTo).toEqual(nodemailers.envelopeTo);
    expect(mine.text?.trimEnd()).toBe(rendered.text.trimEnd());
    expect(mine.html).toBe(rendered.html);
    expect(mine.date!.getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('keeps every line within SMTP limits and every part inside its boundary', async () => {
    const c = CASES[3]!;
    const messageId = '<limits@corp.example.com>';
    await mailer.send(composeMessage(c.content, prepareBody(c.markdown), { ...c.to, messageId }));
    await arrival(messageId);
    const raw = sink.messages.find((m) => m.parsed.messageId === messageId)!.raw.toString('latin1');
    // The List-Id goes as it is (folding it would hide it from filters), as nodemailer sends it too.
    const long = raw.split('\r\n').filter((line) => line.length > 78);
    expect(long).toEqual([`List-Id: ${listIdFor(c.content.fromAddress)}`]);
    expect(raw).not.toMatch(/[^\r]\n/);
    const boundary = /boundary="([^"]+)"/.exec(raw)![1]!;
    expect(raw.split(`--${boundary}`)).toHaveLength(4);
  });
});
