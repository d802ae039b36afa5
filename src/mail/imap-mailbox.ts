import { ImapFlow, type ListResponse } from 'imapflow';
import { servesAddress } from '../domain/retraction.js';
import { MailboxError, type MailboxBackend } from './mailbox.js';

export interface ImapMailboxOptions {
  /** imap://host:port or imaps://host:port */
  url: string;
  masterUser: string;
  masterPassword: string;
  /** Between the person's address and the master user in the login name; Dovecot's default is `*`. */
  separator?: string;
  domains: readonly string[];
  /** Per connection, connect and each command; a server that does not answer in time is a temporary error. */
  timeoutMs?: number;
}

// Errors from the socket or the protocol layer: the server may answer the next try.
const TEMPORARY_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'NoConnection',
  'EConnectionClosed',
  'CONNECT_TIMEOUT',
  'GREETING_TIMEOUT',
  'ETIMEOUT',
  'ETHROTTLE',
  'LockTimeout',
  'ClosedAfterConnectText',
]);
// RFC 5530 response codes that say "later": the mailbox is busy or the server is short of something.
const TEMPORARY_RESPONSE_CODES = new Set(['UNAVAILABLE', 'INUSE', 'LIMIT', 'OVERQUOTA', 'SERVERBUG', 'CONTACTADMIN']);

interface ImapErrorLike {
  message?: string;
  code?: string;
  authenticationFailed?: boolean;
  serverResponseCode?: string;
  responseText?: string;
}

/**
 * What the server said, for the ledger: its response code and text only. Never the command,
 * which for a login holds the master password.
 */
function serverAnswer(error: ImapErrorLike): string {
  const code = error.serverResponseCode ? `[${error.serverResponseCode}] ` : '';
  const text = error.responseText ?? (error.code ? `${error.code}: ${error.message ?? ''}` : (error.message ?? 'no answer'));
  return `${code}${text}`.slice(0, 500);
}

/**
 * The IMAP backend: one connection per person, logged in as `<address><separator><master user>`,
 * so the server's admin grant opens exactly that person's mailbox. It searches every folder but
 * Trash for `HEADER Message-ID`, keeps only messages whose Message-ID is exactly the one asked for
 * (IMAP's search matches substrings), and moves them to the folder marked \Trash.
 */
export function imapMailbox(options: ImapMailboxOptions): MailboxBackend {
  const url = new URL(options.url);
  const secure = url.protocol === 'imaps:';
  const host = url.hostname;
  const port = Number(url.port || (secure ? 993 : 143));
  const separator = options.separator ?? '*';
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function connect(email: string): Promise<ImapFlow> {
    const client = new ImapFlow({
      host,
      port,
      secure,
      logger: false,
      disableAutoIdle: true,
      connectionTimeout: timeoutMs,
      greetingTimeout: timeoutMs,
      socketTimeout: timeoutMs,
      auth: { user: `${email}${separator}${options.masterUser}`, pass: options.masterPassword },
      clientInfo: { name: 'countersign' },
    });
    // A socket error after connect is raised on the command in progress; this keeps it off the process.
    client.on('error', () => {});
    try {
      await client.connect();
      return client;
    } catch (raw) {
      const error = raw as ImapErrorLike;
      client.close();
      // The master login succeeded but there is nobody of that name to act as.
      if (error.serverResponseCode === 'AUTHORIZATIONFAILED') throw new NoMailbox(serverAnswer(error));
      if (error.authenticationFailed) throw new MailboxError(`the server refused the master login: ${serverAnswer(error)}`, false);
      throw classify(error);
    }
  }

  async function matching(client: ImapFlow, folder: string, messageId: string): Promise<number[]> {
    // EXAMINE, not SELECT: looking never changes a flag, in a dry run or before a move.
    const lock = await client.getMailboxLock(folder, { readOnly: true });
    try {
      const uids = (await client.search({ header: { 'message-id': messageId } }, { uid: true })) || [];
      if (uids.length === 0) return [];
      const messages = await client.fetchAll(uids.join(','), { envelope: true, uid: true }, { uid: true });
      return messages.filter((m) => m.envelope?.messageId === messageId).map((m) => m.uid);
    } finally {
      lock.release();
    }
  }

  return {
    name: `imap ${host}`,
    serves: (email) => servesAddress(options.domains, email),
    async retract(email, messageId, { dryRun }) {
      let client: ImapFlow;
      try {
        client = await connect(email);
      } catch (error) {
        if (error instanceof NoMailbox) return { finding: 'not_found', response: `no mailbox for ${email}: ${error.message}` };
        throw error;
      }
      try {
        const folders = (await client.list()).filter((f) => !f.flags.has('\\Noselect') && !f.flags.has('\\NonExistent'));
        const trash = folders.find((f) => f.specialUse === '\\Trash');
        if (!trash) throw new MailboxError(`${email} has no folder marked \\Trash (SPECIAL-USE)`, false);
        for (const folder of folders.filter((f) => f !== trash)) {
          const uids = await matching(client, folder.path, messageId);
          if (uids.length === 0) continue;
          if (dryRun) return { finding: 'found', response: `in ${folder.path}` };
          return { finding: 'found', response: await moveToTrash(client, folder, trash, uids) };
        }
        if ((await matching(client, trash.path, messageId)).length > 0)
          return { finding: 'already_deleted', response: `only in ${trash.path}` };
        return { finding: 'not_found', response: `not in any of ${folders.length} folders` };
      } catch (error) {
        throw error instanceof MailboxError ? error : classify(error as ImapErrorLike);
      } finally {
        await client.logout().catch(() => client.close());
      }
    },
  };
}

async function moveToTrash(client: ImapFlow, folder: ListResponse, trash: ListResponse, uids: number[]): Promise<string> {
  const lock = await client.getMailboxLock(folder.path, { readOnly: false });
  try {
    const moved = await client.messageMove(uids.join(','), trash.path, { uid: true });
    if (!moved) throw new MailboxError(`the server did not move the message from ${folder.path}`, true);
    return `moved from ${folder.path} to ${trash.path}`;
  } finally {
    lock.release();
  }
}

class NoMailbox extends Error {}

function classify(error: ImapErrorLike): MailboxError {
  const temporary = TEMPORARY_CODES.has(error.code ?? '') || TEMPORARY_RESPONSE_CODES.has(error.serverResponseCode ?? '');
  return new MailboxError(serverAnswer(error), temporary);
}
