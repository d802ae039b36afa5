import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

export async function insertSignInLink(
  db: Kysely<DB>,
  link: { id: string; userId: string; tokenHash: string; browserHash: string; returnTo: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sign_in_links')
    .values({ id: link.id, user_id: link.userId, token_hash: link.tokenHash, browser_hash: link.browserHash, return_to: link.returnTo, expires_at: link.expiresAt })
    .execute();
}

export function findSignInLink(db: Kysely<DB>, tokenHash: string) {
  return db.selectFrom('sign_in_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** Atomic and bound to the browser: a scanner without the cookie neither signs in nor burns the link. */
export async function consumeSignInLink(db: Kysely<DB>, id: string, browserHash: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('sign_in_links')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('browser_hash', '=', browserHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function insertSession(db: Kysely<DB>, session: { id: string; userId: string; tokenHash: string; csrfToken: string; expiresAt: Date }): Promise<void> {
  await db
    .insertInto('sessions')
    .values({ id: session.id, user_id: session.userId, token_hash: session.tokenHash, csrf_token: session.csrfToken, expires_at: session.expiresAt })
    .execute();
}

export function findSession(db: Kysely<DB>, tokenHash: string, now: Date) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['sessions.id as session_id', 'sessions.csrf_token', 'users.id', 'users.email', 'users.name', 'users.roles'])
    .where('sessions.token_hash', '=', tokenHash)
    .where('sessions.revoked_at', 'is', null)
    .where('sessions.expires_at', '>', now)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function revokeSession(db: Kysely<DB>, id: string): Promise<void> {
  await db.updateTable('sessions').set({ revoked_at: new Date() }).where('id', '=', id).execute();
}
