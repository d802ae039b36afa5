import { sql, type Kysely } from 'kysely';
import type { DeliveryStatus } from '../domain/delivery.js';
import type { DB } from './schema.js';

/** Creates a `queued` ledger row for each snapshot recipient in `fromSeq..toSeq`, in the database alone. Safe to repeat. */
export async function seedLedger(db: Kysely<DB>, campaignId: string, fromSeq: number, toSeq: number): Promise<void> {
  await sql`
    INSERT INTO deliveries (campaign_id, seq, email, name, fields, reply_to_message_id, status)
    SELECT campaign_id, seq, email, name, fields, reply_to_message_id, 'queued'
    FROM campaign_recipients WHERE campaign_id = ${campaignId} AND seq BETWEEN ${fromSeq} AND ${toSeq}
    ON CONFLICT DO NOTHING
  `.execute(db);
}

/** Seeding goes in seq order, so the snapshot's last recipient in the ledger means all of them are. */
export async function ledgerHoldsSnapshot(db: Kysely<DB>, campaignId: string, recipientCount: number): Promise<boolean> {
  if (recipientCount === 0) return true;
  const row = await db.selectFrom('deliveries').select('seq').where('campaign_id', '=', campaignId).where('seq', '=', recipientCount).executeTakeFirst();
  return row !== undefined;
}

export interface ClaimedDelivery {
  seq: number;
  email: string;
  name: string;
  fields: Record<string, string>;
  reply_to_message_id: string | null;
  message_id: string;
  attempts: number;
}

/**
 * Moves up to `limit` queued rows of a window to `sending`, in one statement that
 * also checks the campaign is still sending this exact content and no kill switch is
 * engaged. A halt and a claim therefore serialise on the rows: each row is either
 * claimed (and counted in flight by the halt) or halted, never both.
 */
export async function claimDeliveries(
  db: Kysely<DB>,
  claim: { campaignId: string; contentHash: string; fromSeq: number; toSeq: number; limit: number; messageIdDomain: string; skipSeqs?: number[] },
): Promise<ClaimedDelivery[]> {
  // The pick is a CTE so it runs exactly once: as an IN (subquery) the planner may re-run it
  // and, with SKIP LOCKED, claim more rows than the limit. Its seqs reach the update as an
  // array so they become an index condition: joined instead, with the ledger's statistics
  // stale mid-send, the planner walked every queued row of the campaign for each claim.
  const result = await sql<ClaimedDelivery>`
    WITH picked AS (
      SELECT seq FROM deliveries
      WHERE campaign_id = ${claim.campaignId} AND seq BETWEEN ${claim.fromSeq} AND ${claim.toSeq} AND status = 'queued'
        AND seq <> ALL(${claim.skipSeqs ?? []}::int[])
      ORDER BY seq LIMIT ${claim.limit}
      FOR UPDATE SKIP LOCKED)
    UPDATE deliveries d
    SET status = 'sending', claimed_at = now(), attempts = d.attempts + 1,
        message_id = coalesce(d.message_id, '<' || d.campaign_id || '.' || d.seq || '@' || ${claim.messageIdDomain} || '>')
    WHERE d.campaign_id = ${claim.campaignId} AND d.seq = ANY(ARRAY(SELECT seq FROM picked)) AND d.status = 'queued'
      AND EXISTS (SELECT 1 FROM campaigns c WHERE c.id = ${claim.campaignId} AND c.status = 'sending' AND c.content_hash = ${claim.contentHash})
      AND NOT EXISTS (SELECT 1 FROM system_state s WHERE s.key = 'kill_switch' AND (s.value ->> 'engaged')::boolean)
    RETURNING d.seq, d.email, d.name, d.fields, d.reply_to_message_id, d.message_id, d.attempts
  `.execute(db);
  return result.rows.sort((a, b) => a.seq - b.seq);
}

export interface DeliveryResult {
  seq: number;
  status: Extract<DeliveryStatus, 'sent' | 'failed' | 'unknown' | 'queued'>;
  response: string;
}

/** Records a batch of outcomes in one statement; only rows still `sending` change. */
export async function recordResults(db: Kysely<DB>, campaignId: string, results: DeliveryResult[]): Promise<void> {
  if (results.length === 0) return;
  const seqs = results.map((r) => r.seq);
  // `seq = ANY` puts the seqs into the index condition: without it the planner walks every
  // (campaign, 'sending') entry, dead ones included, which grows with each message sent.
  await sql`
    UPDATE deliveries d
    SET status = r.status, smtp_response = r.response,
        finished_at = CASE WHEN r.status = 'queued' THEN NULL ELSE now() END
    FROM unnest(${seqs}::int[], ${results.map((r) => r.status)}::text[],
                ${results.map((r) => r.response.slice(0, 1000))}::text[]) AS r(seq, status, response)
    WHERE d.campaign_id = ${campaignId} AND d.status = 'sending' AND d.seq = ANY(${seqs}::int[]) AND d.seq = r.seq
  `.execute(db);
}

export async function countByStatus(db: Kysely<DB>, campaignId: string): Promise<Record<DeliveryStatus, number>> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', '=', campaignId)
    .groupBy('status')
    .execute();
  const counts: Record<DeliveryStatus, number> = { queued: 0, sending: 0, sent: 0, failed: 0, halted: 0, skipped: 0, unknown: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

export async function hasUnfinishedDeliveries(db: Kysely<DB>, campaignId: string): Promise<boolean> {
  const row = await db
    .selectFrom('deliveries')
    .select('seq')
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['queued', 'sending'])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export function pageDeliveries(db: Kysely<DB>, campaignId: string, options: { status?: DeliveryStatus; afterSeq: number; limit: number }) {
  let query = db
    .selectFrom('deliveries')
    .select(['seq', 'email', 'name', 'status', 'message_id', 'attempts', 'smtp_response', 'claimed_at', 'finished_at'])
    .where('campaign_id', '=', campaignId)
    .where('seq', '>', options.afterSeq);
  if (options.status) query = query.where('status', '=', options.status);
  return query.orderBy('seq').limit(options.limit).execute();
}

/** A row left `sending` by a worker that died may or may not have gone out: mark it, never resend. */
export async function markStaleSendingUnknown(db: Kysely<DB>, olderThanSeconds: number): Promise<{ campaign_id: string; n: number }[]> {
  const result = await sql<{ campaign_id: string; n: number }>`
    WITH stale AS (
      UPDATE deliveries SET status = 'unknown', finished_at = now(),
        smtp_response = 'worker stopped during the SMTP hand-off; it may have been delivered'
      WHERE status = 'sending' AND claimed_at < now() - make_interval(secs => ${olderThanSeconds})
      RETURNING campaign_id)
    SELECT campaign_id, count(*)::int AS n FROM stale GROUP BY campaign_id
  `.execute(db);
  return result.rows;
}

export function lastActivity(db: Kysely<DB>, campaignId: string) {
  return db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.max('claimed_at').as('last'))
    .where('campaign_id', '=', campaignId)
    .executeTakeFirst();
}

/** Halt: every row not yet claimed becomes `halted`; rows already claimed are in flight and may complete. */
export async function haltQueuedDeliveries(db: Kysely<DB>, campaignId: string): Promise<{ stopped: number; inFlight: number }> {
  const stopped = await db
    .updateTable('deliveries')
    .set({ status: 'halted', finished_at: new Date() })
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'queued')
    .executeTakeFirst();
  const inFlight = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'sending')
    .executeTakeFirstOrThrow();
  return { stopped: Number(stopped.numUpdatedRows), inFlight: Number(inFlight.n) };
}

/**
 * Follow-through for a correction: every delivery of the original that is now `sent` or
 * `unknown` and not yet in the correction's ledger joins it. The caller holds the
 * correction's row lock, so two joins cannot hand out the same sequence numbers.
 */
export async function joinLateRecipients(trx: Kysely<DB>, correctionId: string, originalId: string, statuses: readonly string[]): Promise<{ fromSeq: number; toSeq: number } | null> {
  const result = await sql<{ seq: number }>`
    INSERT INTO deliveries (campaign_id, seq, email, name, fields, reply_to_message_id, status)
    SELECT ${correctionId},
           (SELECT coalesce(max(seq), 0) FROM deliveries WHERE campaign_id = ${correctionId}) + row_number() OVER (ORDER BY o.email),
           o.email, o.name, o.fields, o.message_id, 'queued'
    FROM deliveries o
    WHERE o.campaign_id = ${originalId} AND o.status = ANY(${[...statuses]}::text[])
      AND NOT EXISTS (SELECT 1 FROM deliveries c WHERE c.campaign_id = ${correctionId} AND c.email = o.email)
    RETURNING seq
  `.execute(trx);
  if (result.rows.length === 0) return null;
  const seqs = result.rows.map((r) => Number(r.seq));
  return { fromSeq: Math.min(...seqs), toSeq: Math.max(...seqs) };
}

export async function countInFlight(db: Kysely<DB>, campaignId: string): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'sending')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Delivery counts of many campaigns in one query, for the campaign list. */
export async function countsForCampaigns(db: Kysely<DB>, campaignIds: string[]): Promise<Map<string, Record<DeliveryStatus, number>>> {
  const counts = new Map<string, Record<DeliveryStatus, number>>();
  if (campaignIds.length === 0) return counts;
  const rows = await db
    .selectFrom('deliveries')
    .select(['campaign_id', 'status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('campaign_id', 'in', campaignIds)
    .groupBy(['campaign_id', 'status'])
    .execute();
  for (const row of rows) {
    const entry = counts.get(row.campaign_id) ?? { queued: 0, sending: 0, sent: 0, failed: 0, halted: 0, skipped: 0, unknown: 0 };
    entry[row.status] = Number(row.n);
    counts.set(row.campaign_id, entry);
  }
  return counts;
}
