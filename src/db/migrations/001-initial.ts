import { sql, type Kysely } from 'kysely';

const STATEMENTS = [
  `CREATE TABLE users (
    id text PRIMARY KEY,
    email text NOT NULL UNIQUE,
    name text NOT NULL,
    roles text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    disabled_at timestamptz
    )`,
  `CREATE TABLE api_tokens (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id),
    token_hash text NOT NULL UNIQUE,
    label text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
    )`,
  `CREATE TABLE lists (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    created_by text NOT NULL REFERENCES users(id),
    created_at timestamptz NOT NULL DEFAULT now()
    )`,
  `CREATE TABLE list_members (
    list_id text NOT NULL REFERENCES lists(id) ON DELETE CASCADE,
    email text NOT NULL,
    name text NOT NULL,
    fields jsonb NOT NULL,
    PRIMARY KEY (list_id, email)
    )`,
  `CREATE TABLE campaigns (
    id text PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('policy', 'correction')),
    status text NOT NULL,
    subject text NOT NULL,
    body_markdown text NOT NULL,
    from_address text NOT NULL,
    from_name text NOT NULL,
    audience jsonb NOT NULL,
    send_at timestamptz,
    required_approvals integer NOT NULL CHECK (required_approvals >= 1),
    author_id text NOT NULL REFERENCES users(id),
    content_hash text,
    audience_digest text,
    recipient_count integer,
    submitted_at timestamptz,
    quorum_reached_at timestamptz,
    scheduled_for timestamptz,
    started_at timestamptz,
    finished_at timestamptz,
    halted_at timestamptz,
    halt_reason text,
    original_campaign_id text REFERENCES campaigns(id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL
    )`,
  `CREATE INDEX campaigns_status_scheduled ON campaigns (status, scheduled_for)`,
  `CREATE UNIQUE INDEX one_open_correction_per_original ON campaigns (original_campaign_id)
    WHERE original_campaign_id IS NOT NULL AND status NOT IN ('cancelled')`,
  `CREATE TABLE campaign_editors (
    campaign_id text NOT NULL REFERENCES campaigns(id),
    user_id text NOT NULL REFERENCES users(id),
    PRIMARY KEY (campaign_id, user_id)
    )`,
  `CREATE TABLE campaign_recipients (
    campaign_id text NOT NULL REFERENCES campaigns(id),
    seq integer NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    fields jsonb NOT NULL,
    reply_to_message_id text,
    PRIMARY KEY (campaign_id, email),
    UNIQUE (campaign_id, seq)
    )`,
  `CREATE TABLE approvals (
    id text PRIMARY KEY,
    campaign_id text NOT NULL REFERENCES campaigns(id),
    approver_id text NOT NULL REFERENCES users(id),
    content_hash text NOT NULL,
    decision text NOT NULL CHECK (decision IN ('approve', 'reject')),
    reason text,
    via text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    voided_at timestamptz
    )`,
  `CREATE UNIQUE INDEX one_decision_per_approver_and_version
    ON approvals (campaign_id, approver_id, content_hash) WHERE voided_at IS NULL`,
  `CREATE TABLE approval_links (
    id text PRIMARY KEY,
    campaign_id text NOT NULL REFERENCES campaigns(id),
    approver_id text NOT NULL REFERENCES users(id),
    content_hash text NOT NULL,
    token_hash text NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    consumed_at timestamptz
    )`,
  `CREATE TABLE approval_link_openings (
    id bigserial PRIMARY KEY,
    link_id text NOT NULL REFERENCES approval_links(id),
    opened_at timestamptz NOT NULL DEFAULT now(),
    method text NOT NULL,
    ip text NOT NULL,
    user_agent text NOT NULL
    )`,
  `CREATE TABLE deliveries (
    campaign_id text NOT NULL REFERENCES campaigns(id),
    seq integer NOT NULL,
    email text NOT NULL,
    name text NOT NULL,
    fields jsonb NOT NULL,
    reply_to_message_id text,
    status text NOT NULL,
    message_id text,
    attempts integer NOT NULL DEFAULT 0,
    smtp_response text,
    claimed_at timestamptz,
    finished_at timestamptz,
    PRIMARY KEY (campaign_id, email),
    UNIQUE (campaign_id, seq)
    )`,
  `CREATE INDEX deliveries_by_status ON deliveries (campaign_id, status)`,
  `CREATE INDEX deliveries_in_flight ON deliveries (claimed_at) WHERE status = 'sending'`,
  `CREATE TABLE audit_events (
    id bigserial PRIMARY KEY,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    campaign_id text,
    data jsonb NOT NULL,
    prev_hash text NOT NULL,
    hash text NOT NULL UNIQUE
    )`,
  `CREATE INDEX audit_events_by_campaign ON audit_events (campaign_id, id)`,
  `CREATE FUNCTION refuse_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
    END
    $$`,
  `CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_change()`,
  `CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_audit_change()`,
  `CREATE TABLE system_state (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL
    )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
