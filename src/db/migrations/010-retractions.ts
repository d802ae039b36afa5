import { sql, type Kysely } from 'kysely';

// Retraction (issue 19): a recall's optional removal of the original from recipients' mailboxes,
// with its own approval and a ledger row per recipient. One per original campaign.
const STATEMENTS = [
  `CREATE TABLE retractions (
    id text PRIMARY KEY,
    campaign_id text NOT NULL UNIQUE REFERENCES campaigns(id),
    correction_id text NOT NULL REFERENCES campaigns(id),
    status text NOT NULL CHECK (status IN ('checking', 'pending_approval', 'running', 'halted', 'done')),
    backend text NOT NULL,
    requested_by text NOT NULL REFERENCES users(id),
    required_approvals integer NOT NULL CHECK (required_approvals >= 1),
    created_at timestamptz NOT NULL,
    checked_at timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    halted_at timestamptz,
    halt_reason text
  )`,
  `CREATE TABLE retraction_items (
    retraction_id text NOT NULL REFERENCES retractions(id),
    seq integer NOT NULL,
    email text NOT NULL,
    message_id text,
    dry_run text CHECK (dry_run IN ('would_remove', 'not_found', 'already_deleted', 'failed', 'not_retractable')),
    dry_run_response text,
    status text NOT NULL DEFAULT 'pending'
      CHECK (status IN ('pending', 'working', 'removed', 'not_found', 'already_deleted', 'failed', 'not_retractable', 'halted')),
    response text,
    attempts integer NOT NULL DEFAULT 0,
    claim_token text,
    claimed_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (retraction_id, seq)
  )`,
  `CREATE INDEX retraction_items_by_status ON retraction_items (retraction_id, status, seq)`,
  `CREATE TABLE retraction_approvals (
    retraction_id text NOT NULL REFERENCES retractions(id),
    approver_id text NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (retraction_id, approver_id)
  )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
