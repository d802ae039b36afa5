import type { Kysely } from 'kysely';
import type { DB } from './schema.js';

/** The same row for any address: nothing in this statement depends on who the address belongs to. */
export async function insertSignInRequest(
  db: Kysely<DB>,
  request: { id: string; email: string; browserHash: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sign_in_links')
    .values({ id: request.id, email: request.email, browser_hash: request.browserHash, expires_at: request.expiresAt })
    .execute();
}

export function findSignInRequest(db: Kysely<DB>, id: string) {
  return db.selectFrom('sign_in_links').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The secrets of the email about to be sent (a retried send replaces them); only while the request is live. */
export async function writeSignInSecrets(
  db: Kysely<DB>,
  id: string,
  secrets: { userId: string; tokenHash: string; codeHash: string; now: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('sign_in_links')
    .set({ user_id: secrets.userId, token_hash: secrets.tokenHash, code_hash: secrets.codeHash, code_attempts: 0, sent_at: secrets.now })
    .where('id', '=', id)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', secrets.now)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export function findSignInLink(db: Kysely<DB>, tokenHash: string) {
  return db.selectFrom('sign_in_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** The live requests a browser made, newest first: a typed code is checked against these only. */
export function liveSignInRequestsOf(db: Kysely<DB>, browserHash: string, now: Date, limit: number) {
  return db
    .selectFrom('sign_in_links')
    .select(['id', 'user_id', 'code_hash', 'code_attempts'])
    .where('browser_hash', '=', browserHash)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
}

export async function countCodeAttempt(db: Kysely<DB>, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await db
    .updateTable('sign_in_links')
    .set((eb) => ({ code_attempts: eb('code_attempts', '+', 1) }))
    .where('id', 'in', ids)
    .execute();
}

/**
 * Atomic and bound to the browser: a scanner without the cookie neither signs in nor burns the
 * link. `maxCodeAttempts` is given when a typed code, not the link, completes it.
 */
export async function consumeSignInLink(
  db: Kysely<DB>,
  id: string,
  browserHash: string,
  now: Date,
  maxCodeAttempts?: number,
): Promise<boolean> {
  let update = db
    .updateTable('sign_in_links')
    .set({ consumed_at: now })
    .where('id', '=', id)
    .where('browser_hash', '=', browserHash)
    .where('user_id', 'is not', null)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now);
  if (maxCodeAttempts !== undefined) update = update.where('code_attempts', '<', maxCodeAttempts);
  const result = await update.executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Requests past their lifetime hold nothing anyone can use; the notify worker clears them now and then. */
export async function deleteSignInRequestsExpiredBefore(db: Kysely<DB>, before: Date): Promise<void> {
  await db.deleteFrom('sign_in_links').where('expires_at', '<', before).execute();
}

export async function insertSession(
  db: Kysely<DB>,
  session: { id: string; userId: string; tokenHash: string; csrfToken: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('sessions')
    .values({
      id: session.id,
      user_id: session.userId,
      token_hash: session.tokenHash,
      csrf_token: session.csrfToken,
      expires_at: session.expiresAt,
    })
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
