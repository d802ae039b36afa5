import { sql, type Kysely } from 'kysely';

// An import is staged here a batch at a time as it arrives, and merged into its list in one
// statement once it is whole and valid: the API process holds a batch, not the whole list (a
// million rows held in memory took the API to 480 MB). Unlogged: a crash loses only imports that
// had not finished, which failed anyway.
const STATEMENTS = [
  `CREATE UNLOGGED TABLE import_rows (
    import_id text NOT NULL,
    ord integer NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    fields jsonb NOT NULL,
    staged_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (import_id, ord)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
