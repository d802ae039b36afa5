import type { Kysely } from 'kysely';
import type { Role } from '../domain/inputs.js';
import type { DB, UserRow } from './schema.js';

export async function insertUser(db: Kysely<DB>, user: { id: string; email: string; name: string; roles: Role[] }): Promise<UserRow> {
  return db.insertInto('users').values(user).returningAll().executeTakeFirstOrThrow();
}

export function findUserByEmail(db: Kysely<DB>, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function findUserById(db: Kysely<DB>, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Names of the people with these addresses, for sentences that name who did what. */
export async function namesByEmail(db: Kysely<DB>, emails: string[]): Promise<Map<string, string>> {
  if (emails.length === 0) return new Map();
  const rows = await db.selectFrom('users').select(['email', 'name']).where('email', 'in', emails).execute();
  return new Map(rows.map((r) => [r.email, r.name]));
}

export function listUsers(db: Kysely<DB>): Promise<UserRow[]> {
  return db.selectFrom('users').selectAll().orderBy('email').execute();
}

export async function insertApiToken(
  db: Kysely<DB>,
  token: { id: string; userId: string; tokenHash: string; label: string },
): Promise<void> {
  await db
    .insertInto('api_tokens')
    .values({ id: token.id, user_id: token.userId, token_hash: token.tokenHash, label: token.label })
    .execute();
}

export function findUserByTokenHash(db: Kysely<DB>, tokenHash: string): Promise<UserRow | undefined> {
  return db
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .selectAll('users')
    .where('api_tokens.token_hash', '=', tokenHash)
    .where('api_tokens.revoked_at', 'is', null)
    .where('users.disabled_at', 'is', null)
    .executeTakeFirst();
}

export async function revokeApiToken(db: Kysely<DB>, tokenId: string): Promise<boolean> {
  const result = await db
    .updateTable('api_tokens')
    .set({ revoked_at: new Date() })
    .where('id', '=', tokenId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export function listApiTokens(db: Kysely<DB>, userId: string) {
  return db
    .selectFrom('api_tokens')
    .select(['id', 'label', 'created_at', 'revoked_at'])
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .execute();
}

/** Active users holding a role, e.g. everyone to ask for an approval. */
export function usersWithRole(db: Kysely<DB>, role: Role): Promise<UserRow[]> {
  return db
    .selectFrom('users')
    .selectAll()
    .where('disabled_at', 'is', null)
    .where((eb) => eb(eb.val(role), '=', eb.fn.any('roles')))
    .orderBy('email')
    .execute();
}

export async function setRoles(db: Kysely<DB>, userId: string, roles: Role[]): Promise<UserRow | undefined> {
  return db.updateTable('users').set({ roles }).where('id', '=', userId).returningAll().executeTakeFirst();
}

/** Deactivated people keep their history; their sessions and tokens stop working at once. */
export async function setDisabled(db: Kysely<DB>, userId: string, at: Date | null): Promise<UserRow | undefined> {
  return db.updateTable('users').set({ disabled_at: at }).where('id', '=', userId).returningAll().executeTakeFirst();
}

export async function revokeAccessOf(db: Kysely<DB>, userId: string, at: Date): Promise<void> {
  await db.updateTable('api_tokens').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  await db.updateTable('sessions').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
}

export async function insertRoleGrant(
  db: Kysely<DB>,
  grant: { id: string; userId: string; roles: Role[]; requestedBy: string },
): Promise<void> {
  await db
    .insertInto('role_grants')
    .values({ id: grant.id, user_id: grant.userId, roles: grant.roles, requested_by: grant.requestedBy })
    .execute();
}

/** Grants waiting for a second admin, with who asked and for whom. */
export function openRoleGrants(db: Kysely<DB>) {
  return db
    .selectFrom('role_grants')
    .innerJoin('users as subject', 'subject.id', 'role_grants.user_id')
    .innerJoin('users as requester', 'requester.id', 'role_grants.requested_by')
    .select([
      'role_grants.id',
      'role_grants.user_id',
      'role_grants.roles',
      'role_grants.requested_by',
      'role_grants.requested_at',
      'subject.email as user_email',
      'subject.name as user_name',
      'requester.email as requester_email',
      'requester.name as requester_name',
    ])
    .where('role_grants.decided_at', 'is', null)
    .orderBy('role_grants.requested_at')
    .execute();
}

/** Closes an open grant; false when it was not open (decided already, or unknown). */
export async function decideRoleGrant(db: Kysely<DB>, id: string, by: string, decision: 'confirmed' | 'cancelled', at: Date) {
  return db
    .updateTable('role_grants')
    .set({ decided_by: by, decided_at: at, decision })
    .where('id', '=', id)
    .where('decided_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

export async function cancelOpenGrantsFor(db: Kysely<DB>, userId: string, by: string, at: Date): Promise<void> {
  await db
    .updateTable('role_grants')
    .set({ decided_by: by, decided_at: at, decision: 'cancelled' })
    .where('user_id', '=', userId)
    .where('decided_at', 'is', null)
    .execute();
}
