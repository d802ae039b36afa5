import { sql, type Kysely } from 'kysely';

const STATEMENTS = [
  // The renderer a campaign was frozen under: approvers approved its output, so a worker with another one refuses it.
  `ALTER TABLE campaigns ADD COLUMN renderer_version integer`,
  // Who changed a list's members, and when: they may not approve a campaign whose audience includes it.
  `CREATE TABLE list_changes (
    id bigserial PRIMARY KEY,
    list_id text NOT NULL REFERENCES lists(id),
    user_id text NOT NULL REFERENCES users(id),
    members integer NOT NULL,
    at timestamptz NOT NULL DEFAULT now()
    )`,
  `CREATE INDEX list_changes_by_list ON list_changes (list_id, at)`,
  // A grant of approver or admin waiting for a second admin, when the organisation asks for one.
  `CREATE TABLE role_grants (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id),
    roles text[] NOT NULL,
    requested_by text NOT NULL REFERENCES users(id),
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_by text REFERENCES users(id),
    decided_at timestamptz,
    decision text CHECK (decision IN ('confirmed', 'cancelled'))
    )`,
  `CREATE UNIQUE INDEX one_open_grant_per_user ON role_grants (user_id) WHERE decided_at IS NULL`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
