import { sql, type Kysely } from 'kysely';

// Why a decision stopped counting, so the campaign page can say so ("voided by the halt")
// instead of guessing; decisions voided before this column existed keep it empty.
const STATEMENTS = [`ALTER TABLE approvals ADD COLUMN void_reason text`];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
