import type { Kysely } from 'kysely';
import { migrateToLatest } from '../db/migrate.js';
import type { DataContext } from './context.js';

/** Runs pending migrations (every start also does); returns the names applied. */
export function migrate(ctx: DataContext): Promise<string[]> {
  return migrateToLatest(ctx.db as Kysely<unknown>);
}
