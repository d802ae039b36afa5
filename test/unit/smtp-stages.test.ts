import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { classifySmtpError } from '../../src/domain/delivery.js';
import { prepareBody } from '../../src/mail/body.js';
import { composeMessage } from '../../src/mail/compose.js';
import { createMailer, type BodyStage } from '../../src/mail/transport.js';
import { DataRefusingSmtp } from '../support/data-refusing-smtp.js';
import { SmtpSink, type SinkOptions } from '../support/smtp-sink.js';

// What nodemailer really raises when a real server fails at each stage of a send, and how
// sendOne classifies it: 'transient' is retried, 'permanent' recorded failed, 'ambiguous'
// recorded unknown and never resent. Each test also checks what the server really got, so
// the classification is held against what happened. No database is involved: this file
// lives with the unit tests so that it runs once.

const RECIPIENT = 'dana@corp.example.com';
const SUBJECT = 'Canteen hours';

const servers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function sink(options: SinkOptions): Promise<SmtpSink> {
  const server = await new SmtpSink(options).start();
  servers.push(server);
  return server;
}

async function dataRefuser(code: number, message: string): Promise<DataRefusingSmtp> {
  const server = await new DataRefusingSmtp({ code, message }).start();
  servers.push(server);
  return server;
}

/** A message as a worker composes it. */
function message(bodyMarkdown = 'The canteen opens at **eight** on Monday.') {
  const content = { subject: SUBJECT, fromAddress: 'comms@corp.example.com', fromName: 'Internal Comms' };
  return composeMessage(content, prepareBody(bodyMarkdown), {
    email: RECIPIENT,
    name: 'Dana',
    fields: {},
    messageId: '<stage@corp.example.com>',
    replyToMessageId: null,
  });
}

type NodemailerError = Error & {
  code?: string;
  originalCode?: string;
  command?: string;
  responseCode?: number;
  timeoutType?: string;
  bodyStage?: BodyStage;
};

/** Sends one message through the project's mailer and returns what nodemailer raised. */
async function failure(url: string, options: { bodyMarkdown?: string; socketTimeoutMs?: number } = {}): Promise<NodemailerError> {
  const mailer = createMailer({ smtpUrl: url, maxConnections: 1, outboxDir: 'unused-by-smtp', socketTimeoutMs: options.socketTimeoutMs });
  try {
    const receipt = await mailer.send(message(options.bodyMarkdown));
    throw new Error(`the server accepted the message: ${receipt?.response}`);
  } catch (error) {
    return error as NodemailerError;
  } finally {
    mailer.close();
  }
}

/** The fields classifySmtpError reads, as nodemailer set them, and how far the mailer saw the body go. */
function shape(error: NodemailerError) {
  const { code, originalCode, command, responseCode, timeoutType, bodyStage } = error;
  return Object.fromEntries(
    Object.entries({ code, originalCode, command, responseCode, timeoutType, bodyStage }).filter(([, v]) => v !== undefined),
  );
}

async function portWithNothingListening(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The whole message, as the server parsed it. */
function arrivedWhole(server: SmtpSink): void {
  expect(server.messages).toHaveLength(1);
  expect(server.messages[0]!.envelopeTo).toEqual([RECIPIENT]);
  expect(server.messages[0]!.parsed.subject).toBe(SUBJECT);
  expect(server.messages[0]!.parsed.text).toContain('The canteen opens at');
}

function gotNoMessage(server: SmtpSink): void {
  expect(server.messages).toEqual([]);
  expect(server.cutOff).toEqual([]);
}

describe('before the message could have been accepted', () => {
  it('connection refused: ESOCKET, originalCode ECONNREFUSED, command CONN → transient', async () => {
    const error = await failure(`smtp://127.0.0.1:${await portWithNothingListening()}`);
    expect(shape(error)).toEqual({ code: 'ESOCKET', originalCode: 'ECONNREFUSED', command: 'CONN', bodyStage: 'not_started' });
    expect(classifySmtpError(error).kind).toBe('transient');
  });

  it('closed before the greeting: the pool reconnects, gives up, and raises ECONNECTION with no command → transient', async () => {
    const server = await sink({ connectFault: () => 'close' });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'ECONNECTION', bodyStage: 'not_started' });
    expect(error.message).toBe('Reached maximum number of retries after connection was closed');
    expect(classifySmtpError(error).kind).toBe('transient');
    expect(server.connections).toBeGreaterThan(1);
    expect(server.rcptAttempts(RECIPIENT)).toBe(0);
    gotNoMessage(server);
  });

  it('421 greeting: EPROTOCOL, responseCode 421, command CONN → transient', async () => {
    const server = await sink({ connectFault: () => ({ code: 421, message: 'Too busy, try later' }) });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'EPROTOCOL', command: 'CONN', responseCode: 421, bodyStage: 'not_started' });
    expect(classifySmtpError(error)).toEqual({ kind: 'transient', response: '421 Too busy, try later' });
    expect(server.rcptAttempts(RECIPIENT)).toBe(0);
    gotNoMessage(server);
  });

  it('554 greeting: EPROTOCOL, responseCode 554, command CONN → permanent', async () => {
    const server = await sink({ connectFault: () => ({ code: 554, message: 'No service for you' }) });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'EPROTOCOL', command: 'CONN', responseCode: 554, bodyStage: 'not_started' });
    expect(classifySmtpError(error)).toEqual({ kind: 'permanent', response: '554 No service for you' });
    gotNoMessage(server);
  });

  it.each([
    [451, 'transient'],
    [550, 'permanent'],
  ])('MAIL FROM %i: EENVELOPE, command MAIL FROM → %s', async (code, kind) => {
    const server = await sink({ mailFault: () => ({ code, message: 'Sender refused' }) });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: code, bodyStage: 'not_started' });
    expect(classifySmtpError(error)).toEqual({ kind, response: `${code} Sender refused` });
    expect(server.rcptAttempts(RECIPIENT)).toBe(0);
    gotNoMessage(server);
  });

  it.each([
    [450, 'transient'],
    [550, 'permanent'],
  ])('RCPT TO %i: EENVELOPE, command RCPT TO → %s', async (code, kind) => {
    const server = await sink({ rcptFault: () => ({ code, message: 'Mailbox unavailable' }) });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: code, bodyStage: 'not_started' });
    expect(classifySmtpError(error)).toEqual({ kind, response: `${code} Mailbox unavailable` });
    expect(server.rcptAttempts(RECIPIENT)).toBe(1);
    gotNoMessage(server);
  });

  it.each([
    [451, 'transient'],
    [554, 'permanent'],
  ])('DATA command %i: EENVELOPE, command DATA → %s', async (code, kind) => {
    const server = await dataRefuser(code, 'No data now');
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'EENVELOPE', command: 'DATA', responseCode: code, bodyStage: 'not_started' });
    expect(classifySmtpError(error)).toEqual({ kind, response: `${code} No data now` });
    // Every line the server got is a command: not one line of the message followed DATA.
    const verbs = server.lines.map((line) => line.split(/[\s:]/, 1)[0]!.toUpperCase());
    expect(verbs.slice(0, 4)).toEqual(['EHLO', 'MAIL', 'RCPT', 'DATA']);
    expect(verbs.slice(4).every((verb) => verb === 'RSET' || verb === 'QUIT')).toBe(true);
  });

  it('the mailer already closed (a worker shutting down): ECONNECTION with no command → transient', async () => {
    const server = await sink({});
    const mailer = createMailer({ smtpUrl: server.url, maxConnections: 1, outboxDir: 'unused-by-smtp' });
    mailer.close();
    const error = (await mailer.send(message()).catch((e: unknown) => e)) as NodemailerError;
    expect(shape(error)).toEqual({ code: 'ECONNECTION', bodyStage: 'not_started' });
    expect(error.message).toBe('Connection pool was closed');
    expect(classifySmtpError(error).kind).toBe('transient');
    expect(server.connections).toBe(0);
  });
});

describe('the server answered the final dot', () => {
  it.each([
    [451, 'transient'],
    [554, 'permanent'],
  ])('%i: EMESSAGE, command DATA → %s', async (code, kind) => {
    const server = await sink({ dataFault: () => ({ code, message: 'Message refused' }) });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'EMESSAGE', command: 'DATA', responseCode: code, bodyStage: 'complete' });
    expect(classifySmtpError(error)).toEqual({ kind, response: `${code} Message refused` });
    // The server refused it: it keeps nothing.
    gotNoMessage(server);
  });
});

describe('no reply after the final dot: the message may have been delivered', () => {
  it('dropped: ECONNECTION, command CONN → ambiguous', async () => {
    const server = await sink({ dataFault: () => 'drop-after-dot' });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'ECONNECTION', command: 'CONN', bodyStage: 'complete' });
    expect(classifySmtpError(error).kind).toBe('ambiguous');
    arrivedWhole(server);
  });

  it('reset: ESOCKET, originalCode ECONNRESET, command CONN → ambiguous', async () => {
    const server = await sink({ dataFault: () => 'reset-after-dot' });
    const error = await failure(server.url);
    expect(shape(error)).toEqual({ code: 'ESOCKET', originalCode: 'ECONNRESET', command: 'CONN', bodyStage: 'complete' });
    expect(classifySmtpError(error).kind).toBe('ambiguous');
    arrivedWhole(server);
  });

  it('no reply until the socket timeout: ETIMEDOUT, timeoutType SOCKET_TIMEOUT, command CONN → ambiguous', async () => {
    const server = await sink({ dataFault: () => 'no-reply' });
    // Silence mid-conversation on loopback: 3 s is far beyond any stall between two packets.
    const error = await failure(server.url, { socketTimeoutMs: 3000 });
    expect(shape(error)).toEqual({ code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'SOCKET_TIMEOUT', bodyStage: 'complete' });
    expect(classifySmtpError(error).kind).toBe('ambiguous');
    arrivedWhole(server);
  });
});

describe('a connection dropped before the final dot: nothing could have been delivered', () => {
  // nodemailer raises the same error for a drop at RCPT, inside the body or after the final
  // dot (command CONN, whatever the stage). The mailer tells them apart by how far the
  // connection had read the body: not at all before DATA's 354, all of it before the dot.
  it('dropped at RCPT: the body was never read → transient', async () => {
    const server = await sink({ rcptFault: () => 'drop' });
    const error = await failure(server.url);
    expect(shape(error)).toMatchObject({ code: 'ECONNECTION', command: 'CONN', bodyStage: 'not_started' });
    expect(classifySmtpError(error).kind).toBe('transient');
    expect(server.rcptAttempts(RECIPIENT)).toBe(1);
    gotNoMessage(server);
  });

  it('dropped inside a large body: read only in part → transient, though its error alone reads as a drop after the dot', async () => {
    const inBody = await sink({ dataFault: () => 'drop-in-body' });
    // Megabytes: the client is still writing the body when the server hangs up.
    const duringBody = await failure(inBody.url, { bodyMarkdown: 'The canteen opens at eight. '.repeat(150_000) });
    const afterDot = await sink({ dataFault: () => 'drop-after-dot' });
    const afterTheDot = await failure(afterDot.url);

    expect(inBody.messages).toEqual([]);
    expect(inBody.cutOff).toEqual([{ envelopeTo: [RECIPIENT], bytes: expect.any(Number) }]);
    arrivedWhole(afterDot);
    // The server hung up with the body still arriving: a close or a reset, as the client saw it first.
    expect(shape(duringBody)).toMatchObject({ command: 'CONN', bodyStage: 'partial' });
    expect(classifySmtpError(duringBody).kind).toBe('transient');
    expect(classifySmtpError(afterTheDot).kind).toBe('ambiguous');
    // Without the stage the two would be told apart by nothing: both are a connection lost.
    const withoutStage = (error: NodemailerError) => classifySmtpError({ ...error, message: error.message, bodyStage: undefined }).kind;
    expect([withoutStage(duringBody), withoutStage(afterTheDot)]).toEqual(['ambiguous', 'ambiguous']);
  });
});

describe('the final dot waits for the start to be recorded (begin)', () => {
  const bodyArrived = (server: SmtpSink) => server.waitUntil(() => server.bodyChunks > 0, 10_000, 'the body to arrive');

  async function sendWith(server: SmtpSink, begin: () => Promise<boolean>) {
    const mailer = createMailer({ smtpUrl: server.url, maxConnections: 1, outboxDir: 'unused-by-smtp' });
    try {
      const outcome = await mailer.send(message(), { begin }).catch((error: unknown) => error as NodemailerError);
      const next = await mailer.send(message());
      return { outcome, next };
    } finally {
      mailer.close();
    }
  }

  it('envelope and body go while it runs; the message is delivered only once it answers yes', async () => {
    const server = await sink({});
    let arrivedBeforeTheAnswer: number | null = null;
    const { outcome } = await sendWith(server, async () => {
      await bodyArrived(server);
      // A slow ledger write: had the dot gone with the body, the server would have the message by now.
      await new Promise((resolve) => setTimeout(resolve, 200));
      arrivedBeforeTheAnswer = server.messages.length;
      return true;
    });
    expect(outcome).toMatchObject({ response: expect.stringMatching(/^250/) });
    expect(arrivedBeforeTheAnswer).toBe(0);
    expect(server.messages).toHaveLength(2);
  });

  it('a no abandons the transaction before the dot: nothing arrives, and the next message goes on a fresh connection', async () => {
    const server = await sink({});
    const { outcome, next } = await sendWith(server, async () => {
      await bodyArrived(server);
      return false;
    });
    expect(outcome).toBeNull();
    expect(next?.response).toMatch(/^250/);
    expect(server.messages).toHaveLength(1);
    expect(server.rcptAttempts(RECIPIENT)).toBe(2);
  });

  it('a drop inside even a small body, while the answer is awaited, is before the dot → transient', async () => {
    const server = await sink({ dataFault: (_address, attempt) => (attempt === 1 ? 'drop-in-body' : null) });
    const { outcome } = await sendWith(server, async () => {
      await server.waitUntil(() => server.cutOff.length > 0, 10_000, 'the server to hang up');
      // The client learns of the hang-up from its own socket a moment later, which nothing outside
      // nodemailer can await. Answering before it has would write the dot to a connection it still
      // believes open: then the message may have gone, as far as the client can know.
      await new Promise((resolve) => setTimeout(resolve, 100));
      return true;
    });
    expect(shape(outcome as NodemailerError)).toEqual({ code: 'ECONNECTION', command: 'CONN', bodyStage: 'partial' });
    expect(classifySmtpError(outcome as NodemailerError).kind).toBe('transient');
    expect(server.messages).toHaveLength(1);
  });

  it('a refusal before the dot is reported with what begin answered: null when it said no', async () => {
    const refusing = (attempt: number) => (attempt === 1 ? { code: 550, message: 'No such mailbox' } : null);
    const started = await sink({ rcptFault: (_address, attempt) => refusing(attempt) });
    const afterYes = await sendWith(started, async () => true);
    expect(shape(afterYes.outcome as NodemailerError)).toEqual({
      code: 'EENVELOPE',
      command: 'RCPT TO',
      responseCode: 550,
      bodyStage: 'not_started',
    });
    const notStarted = await sink({ rcptFault: (_address, attempt) => refusing(attempt) });
    const afterNo = await sendWith(notStarted, async () => false);
    expect(afterNo.outcome).toBeNull();
    expect([started.messages.length, notStarted.messages.length]).toEqual([1, 1]);
  });

  it('a begin that fails fails the send with its own error, before the dot', async () => {
    const server = await sink({});
    const { outcome } = await sendWith(server, async () => {
      await bodyArrived(server);
      throw new Error('the ledger is unreachable');
    });
    expect((outcome as Error).message).toBe('the ledger is unreachable');
    expect(server.messages).toHaveLength(1);
  });
});
