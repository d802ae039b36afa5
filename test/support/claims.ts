import { sql, type Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';

/**
 * Test-only, PostgreSQL: from now on, every ledger row a claim takes (queued → sending) is noted
 * with the application_name of the database session that took it, which names the process that
 * claimed it (Harness.processEnv sets it per process). Nothing in Countersign reads the table.
 */
export async function noteClaimingProcesses(db: Kysely<DB>): Promise<void> {
  await sql`CREATE TABLE test_claims (campaign_id text NOT NULL, seq int NOT NULL, process text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())`.execute(
    db,
  );
  await sql`
    CREATE FUNCTION test_note_claim() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      INSERT INTO test_claims (campaign_id, seq, process) VALUES (NEW.campaign_id, NEW.seq, current_setting('application_name'));
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER test_note_claim AFTER UPDATE OF status ON deliveries
    FOR EACH ROW WHEN (OLD.status = 'queued' AND NEW.status = 'sending') EXECUTE FUNCTION test_note_claim()`.execute(db);
}

/** Each claim of the campaign's rows, in the order they were taken: which seq, by which process. */
export async function claimsOf(db: Kysely<DB>, campaignId: string): Promise<{ seq: number; process: string }[]> {
  const result = await sql<{
    seq: number;
    process: string;
  }>`SELECT seq, process FROM test_claims WHERE campaign_id = ${campaignId} ORDER BY at, seq`.execute(db);
  return result.rows;
}
