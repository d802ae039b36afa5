import { sql, type Kysely } from 'kysely';

const STATEMENTS = [
  `CREATE TABLE sign_in_links (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id),
    token_hash text NOT NULL UNIQUE,
    browser_hash text NOT NULL,
    return_to text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    consumed_at timestamptz
    )`,
  `CREATE TABLE sessions (
    id text PRIMARY KEY,
    user_id text NOT NULL REFERENCES users(id),
    token_hash text NOT NULL UNIQUE,
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
    )`,
  `CREATE TABLE campaign_versions (
    campaign_id text NOT NULL REFERENCES campaigns(id),
    content_hash text NOT NULL,
    subject text NOT NULL,
    body_markdown text NOT NULL,
    from_address text NOT NULL,
    from_name text NOT NULL,
    send_at timestamptz,
    recipient_count integer NOT NULL,
    submitted_at timestamptz NOT NULL,
    PRIMARY KEY (campaign_id, content_hash)
    )`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
