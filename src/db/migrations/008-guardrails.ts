import { sql, type Kysely } from 'kysely';

const STATEMENTS = [
  // People who must not get mail: `left` the organisation, or `opted_out` of mail that is not mandatory.
  `CREATE TABLE suppressions (
    email text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('left', 'opted_out')),
    reason text NOT NULL,
    added_by text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
    )`,
  `ALTER TABLE campaigns
    ADD COLUMN mandatory boolean NOT NULL DEFAULT false,
    ADD COLUMN external boolean NOT NULL DEFAULT false,
    ADD COLUMN first_wave jsonb,
    ADD COLUMN policy jsonb,
    ADD COLUMN wave_size integer,
    ADD COLUMN wave_stage text CHECK (wave_stage IN ('first', 'paused', 'rest')),
    ADD COLUMN wave_paused_until timestamptz,
    ADD COLUMN escalated_at timestamptz,
    ADD COLUMN skipped_count integer`,
  // Frozen with the snapshot: why a recipient is skipped (a suppression at submit time).
  `ALTER TABLE campaign_recipients ADD COLUMN skip_reason text`,
  `ALTER TABLE approval_links ADD COLUMN reminded_at timestamptz`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
