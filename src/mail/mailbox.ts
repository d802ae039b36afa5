import type { MailboxFinding } from '../domain/retraction.js';

/**
 * A mail system that can act in its users' mailboxes on the organisation's behalf. Retraction
 * uses one to take a message out of one person's mailbox by the Message-ID the ledger recorded.
 *
 * The IMAP backend (`imap-mailbox.ts`) logs in as each person with the server's master user.
 * Others would plug in here, each with its own admin grant and domains:
 * - Microsoft Graph (Exchange Online): application permission Mail.ReadWrite, then
 *   `GET /users/{address}/messages?$filter=internetMessageId eq '<id>'` to find it and
 *   `POST /users/{address}/messages/{id}/move {"destinationId": "deleteditems"}` to remove it;
 *   a message found only in `deleteditems` is already deleted, a 404 for the user is not found.
 * - Gmail API (Google Workspace): a service account with domain-wide delegation acting as the
 *   person, `users.messages.list?q=rfc822msgid:<id>` to find it and `users.messages.trash`
 *   to remove it; a message carrying the TRASH label is already deleted.
 */
export interface MailboxBackend {
  /** Shown in the ledger and the audit trail, e.g. `imap mail.example.com`. */
  readonly name: string;
  /** Whether this backend holds the person's mailbox (RETRACT_DOMAINS); never guessed. */
  serves(email: string): boolean;
  /**
   * Finds the message with exactly this Message-ID in the person's mailbox and, unless `dryRun`,
   * moves it to Trash. `found` means it was outside Trash (and is now in it, unless a dry run);
   * `already_deleted` that it was only in Trash. Throws a MailboxError when it could not tell.
   */
  retract(email: string, messageId: string, options: { dryRun: boolean }): Promise<{ finding: MailboxFinding; response: string }>;
}

/** A failure to find out. `temporary` ones (connection lost, server busy) are worth another try. */
export class MailboxError extends Error {
  constructor(
    message: string,
    readonly temporary: boolean,
  ) {
    super(message);
  }
}
