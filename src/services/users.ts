import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { z } from 'zod';
import { newUserInput, ROLES, type NewUserInput } from '../domain/inputs.js';
import { normaliseEmail } from '../domain/addresses.js';
import { findUserByEmail, findUserByTokenHash, insertApiToken, insertUser, listApiTokens, listUsers, revokeApiToken, setRoles } from '../db/users.js';
import type { DB, UserRow } from '../db/schema.js';
import { recordEvent } from './audit.js';
import { requireRole, type Actor, type AppContext, type DataContext } from './context.js';
import { conflict, notFound, parseInput } from './errors.js';

/** A person as the pages and the CLI see them. */
export type User = UserRow;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** 32 random bytes: unguessable, and only the hash is ever stored. */
export function newSecretToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

export async function createUser(db: Kysely<DB>, input: NewUserInput): Promise<UserRow> {
  const user = parseInput(newUserInput, input);
  if (await findUserByEmail(db, user.email)) throw conflict('user_exists', `a user with email ${user.email} already exists`);
  return insertUser(db, { id: randomUUID(), email: user.email, name: user.name, roles: [...new Set(user.roles)] });
}

/** Returns the token once; it cannot be recovered afterwards. */
export async function issueApiToken(db: Kysely<DB>, userId: string, label: string): Promise<{ id: string; token: string }> {
  const token = newSecretToken('cs_');
  const id = randomUUID();
  await insertApiToken(db, { id, userId, tokenHash: hashToken(token), label });
  return { id, token };
}

export function authenticateToken(db: Kysely<DB>, token: string): Promise<UserRow | undefined> {
  return findUserByTokenHash(db, hashToken(token));
}

export const rolesInput = z.object({ roles: z.array(z.enum(ROLES)).min(1, 'give at least one role') });

/** Admin actions on people, each in the audit chain. */
export async function addUserAsAdmin(ctx: AppContext, actor: Actor, input: unknown): Promise<UserRow> {
  requireRole(actor, 'admin');
  const user = await createUser(ctx.db, parseInput(newUserInput, input));
  await ctx.db.transaction().execute((trx) =>
    recordEvent(trx, { actor: actor.email, action: 'user.add', campaignId: null, data: { userId: user.id, email: user.email, roles: user.roles }, at: ctx.now() }),
  );
  return user;
}

export async function changeRoles(ctx: AppContext, actor: Actor, userId: string, input: unknown): Promise<UserRow> {
  requireRole(actor, 'admin');
  const { roles } = parseInput(rolesInput, input);
  if (userId === actor.id && !roles.includes('admin')) throw conflict('last_admin_guard', 'you cannot remove your own admin role');
  return ctx.db.transaction().execute(async (trx) => {
    const user = await setRoles(trx, userId, [...new Set(roles)]);
    if (!user) throw notFound('user');
    await recordEvent(trx, { actor: actor.email, action: 'user.roles', campaignId: null, data: { userId, roles: user.roles }, at: ctx.now() });
    return user;
  });
}

export function allUsers(ctx: DataContext): Promise<UserRow[]> {
  return listUsers(ctx.db);
}

export function userByEmail(ctx: DataContext, email: string): Promise<UserRow | undefined> {
  return findUserByEmail(ctx.db, normaliseEmail(email));
}

export function apiTokensOf(ctx: DataContext, userId: string) {
  return listApiTokens(ctx.db, userId);
}

/** True when an active token was revoked; false when there was none by that id. */
export function revokeToken(ctx: DataContext, tokenId: string): Promise<boolean> {
  return revokeApiToken(ctx.db, tokenId);
}
