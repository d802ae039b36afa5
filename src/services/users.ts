import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { newUserInput, type NewUserInput } from '../domain/inputs.js';
import { findUserByEmail, findUserByTokenHash, insertApiToken, insertUser } from '../db/users.js';
import type { DB, UserRow } from '../db/schema.js';
import { conflict, parseInput } from './errors.js';

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
