import { sql, type Kysely } from 'kysely';

// A sign-in request is written the same way whether or not its address belongs to a user: the
// notify worker looks the address up and, for a user, mints the link and the typed code and
// emails them. `return_to` held the page to go back to, for an approver the approval link with
// its token in clear; that path now stays in the asking browser. Pending requests live 15 minutes
// and are dropped rather than converted.
const STATEMENTS = [
  `DELETE FROM sign_in_links`,
  `ALTER TABLE sign_in_links DROP COLUMN return_to`,
  `ALTER TABLE sign_in_links ADD COLUMN email text NOT NULL`,
  `ALTER TABLE sign_in_links ALTER COLUMN user_id DROP NOT NULL`,
  `ALTER TABLE sign_in_links ALTER COLUMN token_hash DROP NOT NULL`,
  `ALTER TABLE sign_in_links ADD COLUMN code_hash text`,
  `ALTER TABLE sign_in_links ADD COLUMN code_attempts integer NOT NULL DEFAULT 0`,
  `ALTER TABLE sign_in_links ADD COLUMN sent_at timestamptz`,
  `CREATE INDEX sign_in_links_by_browser ON sign_in_links (browser_hash, expires_at)`,
];

export async function up(db: Kysely<unknown>): Promise<void> {
  for (const statement of STATEMENTS) await sql.raw(statement).execute(db);
}
