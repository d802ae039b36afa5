import type { Kysely } from 'kysely';
import type { Config } from '../config.js';
import type { DB, Role, UserRow } from '../db/schema.js';
import type { Mailer } from '../mail/transport.js';
import type { Queues } from '../queue/queues.js';
import { forbidden } from './errors.js';

/** Everything a service needs, built once per process by `src/runtime.ts`. */
export interface AppContext {
  config: Config;
  db: Kysely<DB>;
  queues: Queues;
  mailer: Mailer;
  now(): Date;
}

export type Actor = Pick<UserRow, 'id' | 'email' | 'name' | 'roles'>;

export const SYSTEM_ACTOR = 'system';

export function requireRole(actor: Actor, ...roles: Role[]): void {
  if (!roles.some((role) => actor.roles.includes(role))) {
    throw forbidden(`this needs the ${roles.join(' or ')} role`);
  }
}
