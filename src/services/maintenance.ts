import type { Kysely } from 'kysely';
import { migrateAsOwner } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import type { DataContext } from './context.js';

/** Runs pending migrations (every start also does), as the owner when one is configured; returns the names applied. */
export function migrate(ctx: DataContext): Promise<string[]> {
  const { DATABASE_URL: appUrl, MIGRATION_DATABASE_URL: ownerUrl } = ctx.config;
  if (ownerUrl && appUrl) return migrateAsOwner(ownerUrl, appUrl);
  return migrateToLatest(ctx.db as Kysely<unknown>);
}
