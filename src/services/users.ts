import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newUserInput, type NewUserInput, type Role } from '../domain/inputs.js';
import { emailDomain, isOwnDomain, normaliseEmail } from '../domain/addresses.js';
import { findUserByEmail, findUserByTokenHash, insertApiToken, insertUser, listApiTokens, listUsers, revokeApiToken } from '../db/users.js';
import type { DB, UserRow } from '../db/schema.js';
import { recordEvent } from './audit.js';
import type { DataContext } from './context.js';
import { AppError, conflict, parseInput } from './errors.js';

/** A person as the pages and the CLI see them. */
export type User = UserRow;

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** 32 random bytes: unguessable, and only the hash is ever stored. */
export function newSecretToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

/** Refused unless the address is on an allowed domain (when `ALLOWED_USER_DOMAINS` is set). */
export function assertAllowedDomain(ctx: DataContext, email: string): void {
  const allowed = ctx.config.ALLOWED_USER_DOMAINS;
  if (allowed && !isOwnDomain(emailDomain(email), allowed)) {
    throw new AppError(403, 'domain_not_allowed', `people can only be added with an address on ${allowed.join(', ')}`);
  }
}

/** Adds a person with exactly these roles. The admin page goes through people.ts, which may hold some back. */
export async function createUser(ctx: DataContext, input: NewUserInput): Promise<UserRow> {
  const user = parseInput(newUserInput, input);
  return insertPerson(ctx, { ...user, roles: [...new Set(user.roles)] });
}

/** A validated person on an allowed domain, with the roles they get now (none, while a grant waits). */
export async function insertPerson(ctx: DataContext, person: { email: string; name: string; roles: Role[] }): Promise<UserRow> {
  assertAllowedDomain(ctx, person.email);
  if (await findUserByEmail(ctx.db, person.email)) throw conflict('user_exists', `a user with email ${person.email} already exists`);
  return insertUser(ctx.db, { id: randomUUID(), ...person });
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

/** The operator's way in (the CLI, with access to the machine): audited like any other addition. */
export async function addUserFromCli(ctx: DataContext, input: NewUserInput): Promise<UserRow> {
  const user = await createUser(ctx, input);
  await ctx.db.transaction().execute((trx) =>
    recordEvent(trx, {
      actor: 'cli',
      action: 'user.add',
      campaignId: null,
      data: { userId: user.id, email: user.email, roles: user.roles },
      at: ctx.now(),
    }),
  );
  return user;
}
