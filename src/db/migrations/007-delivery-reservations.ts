import { sql, type Kysely } from 'kysely';

// A worker reserves the rows it is about to send (they stay `queued`, marked with its token)
// and moves each to `sending` only as its own SMTP transaction starts. A halt then stops
// every reserved row, and rows a dead worker had reserved become claimable again when
// their reservation goes stale, instead of being recorded as `unknown`.
const STATEMENTS = [`ALTER TABLE deliveries ADD COLUMN claim_token text`];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
