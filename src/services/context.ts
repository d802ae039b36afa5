import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { DB, UserRow } from '../db/schema.js';
import type { Role } from '../domain/inputs.js';
import type { Policy } from '../domain/policy.js';
import type { MailboxBackend } from '../mail/mailbox.js';
import type { Mailer } from '../mail/transport.js';
import type { Queues } from '../queue/queues.js';
import { forbidden } from './errors.js';

/** Everything a service needs, built once per process by `src/runtime.ts`. */
export interface AppContext {
  config: Config;
  db: Kysely<DB>;
  queues: Queues;
  /** Campaign deliveries: one permit per pooled SMTP connection. */
  mailer: Mailer;
  /** Staff notifications (approval requests, sign-in links, halt notices), on a connection of their own. */
  notifier: Mailer;
  /** The blast-radius policy (POLICY_FILE), read once at start. */
  policy: Policy;
  /** Where a retraction acts in recipients' mailboxes (RETRACT_IMAP_URL); null when none is configured. */
  mailbox: MailboxBackend | null;
  now(): Date;
}

/** What work on the database alone needs (the CLI has no queues or mail). */
export type DataContext = Pick<AppContext, 'config' | 'db' | 'now'>;

export type Actor = Pick<UserRow, 'id' | 'email' | 'name' | 'roles'>;

export const SYSTEM_ACTOR = 'system';

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.some((role) => actor.roles.includes(role))) {
    throw forbidden(`this needs the ${roles.join(' or ')} role`);
  }
}
