import { sql, type Kysely } from 'kysely';

// (campaign_id, status, seq) lets a claim read a window's queued rows in order, and a
// result update find its rows by seq, instead of stepping over every row already sent
// and every dead index entry of a row's earlier status.
const STATEMENTS = [`DROP INDEX deliveries_by_status`, `CREATE INDEX deliveries_by_status_seq ON deliveries (campaign_id, status, seq)`];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
