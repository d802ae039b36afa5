import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.js';

export interface Suppression {
  email: string;
  kind: 'left' | 'opted_out';
  reason: string;
}

/** Adds or replaces suppressions in one statement per batch, through arrays. */
export async function upsertSuppressions(db: Kysely<DB>, rows: Suppression[], addedBy: string, batchSize = 2000): Promise<void> {
  for (let start = 0; start < rows.length; start += batchSize) {
    const batch = rows.slice(start, start + batchSize);
    await sql`
      INSERT INTO suppressions (email, kind, reason, added_by)
      SELECT s.email, s.kind, s.reason, ${addedBy}
      FROM unnest(${batch.map((r) => r.email)}::text[], ${batch.map((r) => r.kind)}::text[], ${batch.map((r) => r.reason)}::text[]) AS s(email, kind, reason)
      ON CONFLICT (email) DO UPDATE SET kind = excluded.kind, reason = excluded.reason, added_by = excluded.added_by, added_at = now()
    `.execute(db);
  }
}

export function pageSuppressions(db: Kysely<DB>, page: { limit: number; offset: number }) {
  return db.selectFrom('suppressions').selectAll().orderBy('email').limit(page.limit).offset(page.offset).execute();
}

export async function deleteSuppression(db: Kysely<DB>, email: string): Promise<boolean> {
  const result = await db.deleteFrom('suppressions').where('email', '=', email).executeTakeFirst();
  return result.numDeletedRows > 0n;
}
