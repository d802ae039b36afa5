import { sql, type Kysely, type Transaction } from 'kysely';
import type { CampaignStatus } from '../domain/campaign-state.js';
import { countsAsLedgerSays, noDeliveries, type DeliveryStatus } from '../domain/delivery.js';
import { campaignGate } from './campaigns.js';
import type { DB } from './schema.js';

/** Creates a ledger row for each snapshot recipient in `fromSeq..toSeq`, in the database alone. Safe to repeat. */
export async function seedLedger(db: Kysely<DB>, campaignId: string, fromSeq: number, toSeq: number, status: 'queued' | 'halted' = 'queued'): Promise<void> {
  await sql`
    INSERT INTO deliveries (campaign_id, seq, email, name, fields, reply_to_message_id, status)
    SELECT campaign_id, seq, email, name, fields, reply_to_message_id, ${status}
    FROM campaign_recipients WHERE campaign_id = ${campaignId} AND seq BETWEEN ${fromSeq} AND ${toSeq}
    ON CONFLICT DO NOTHING
  `.execute(db);
}

/** Seeding goes in seq order, so the snapshot's last recipient in the ledger means all of them are. */
export async function ledgerHoldsSnapshot(db: Kysely<DB>, campaignId: string, recipientCount: number): Promise<boolean> {
  return (await seededThrough(db, campaignId, recipientCount)) === recipientCount;
}

/** How far the fan-out has copied the snapshot (seeding goes in seq order; later seqs are late joiners). */
export async function seededThrough(db: Kysely<DB>, campaignId: string, recipientCount: number): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select('seq')
    .where('campaign_id', '=', campaignId)
    .where('seq', '<=', recipientCount)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.seq ?? 0;
}

/** A campaign resumed after a halt sends again to those the halt stopped, and only to them. */
export async function requeueHalted(trx: Transaction<DB>, campaignId: string): Promise<void> {
  await trx.updateTable('deliveries').set({ status: 'queued' }).where('campaign_id', '=', campaignId).where('status', '=', 'halted').execute();
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
  // `live` takes the campaign's gate shared (see campaignGate), before anything else, and a key-share
  // lock on the campaign row. A halt takes the gate exclusive and locks that row for update, so it
  // waits for claims in progress (they are its in-flight count), and a claim that waited for the
  // halt rechecks the row's newest version, sees the campaign halted and claims nothing.
  const result = await sql<ClaimedDelivery>`
    WITH gate AS (SELECT ${campaignGate(claim.campaignId, 'shared')}),
    live AS (
      SELECT id FROM campaigns WHERE id = ${claim.campaignId} AND status = 'sending' AND content_hash = ${claim.contentHash}
        AND EXISTS (SELECT 1 FROM gate)
      FOR KEY SHARE),
    picked AS (
      SELECT seq FROM deliveries
      WHERE campaign_id = ${claim.campaignId} AND seq BETWEEN ${claim.fromSeq} AND ${claim.toSeq} AND status = 'queued'
        AND seq <> ALL(${claim.skipSeqs ?? []}::int[]) AND EXISTS (SELECT 1 FROM live)
      ORDER BY seq LIMIT ${claim.limit}
      FOR UPDATE SKIP LOCKED)
    UPDATE deliveries d
    SET status = 'sending', claimed_at = now(), attempts = d.attempts + 1,
        message_id = coalesce(d.message_id, '<' || d.campaign_id || '.' || d.seq || '@' || ${claim.messageIdDomain} || '>')
    WHERE d.campaign_id = ${claim.campaignId} AND d.seq = ANY(ARRAY(SELECT seq FROM picked)) AND d.status = 'queued'
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

/** The ledger's counts by status, as `countsAsLedgerSays` reads them for the campaign's status. */
export async function countByStatus(db: Kysely<DB>, campaignId: string): Promise<Record<DeliveryStatus, number>> {
  const counts = await countsForCampaigns(db, [campaignId]);
  return counts.get(campaignId) ?? noDeliveries();
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

/**
 * What a halt finds: rows not yet claimed and snapshot recipients the fan-out has not yet
 * copied (it stops both), and rows claimed (in flight, they may complete).
 */
export async function countHaltable(db: Kysely<DB>, campaignId: string, recipientCount: number): Promise<{ stopped: number; inFlight: number }> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => [
      eb.fn.countAll<number>().filterWhere('status', '=', 'queued').as('stopped'),
      eb.fn.countAll<number>().filterWhere('status', '=', 'sending').as('inFlight'),
    ])
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', ['queued', 'sending'])
    .executeTakeFirstOrThrow();
  const notCopied = recipientCount - (await seededThrough(db, campaignId, recipientCount));
  return { stopped: Number(row.stopped) + notCopied, inFlight: Number(row.inFlight) };
}

/**
 * Rewrites the first `limit` queued rows of a halted campaign as `halted` (and any row that turned
 * queued among them meanwhile); returns how many. The share lock on the campaign serialises it
 * with a resume, which re-queues halted rows: once the campaign is no longer halted, this changes
 * nothing. The batch reaches the update as a seq bound, an index condition: as an array, with the
 * ledger's statistics stale after a fan-out, the planner checked it against every queued row of
 * the campaign (EXPLAIN: 75,000 rows filtered, 300-500 ms a batch of 1,000).
 */
export async function markQueuedHalted(db: Kysely<DB>, campaignId: string, limit: number): Promise<number> {
  const result = await sql`
    WITH still_halted AS (SELECT id FROM campaigns WHERE id = ${campaignId} AND status = 'halted' FOR SHARE),
    batch AS (
      SELECT seq FROM deliveries
      WHERE campaign_id = ${campaignId} AND status = 'queued' AND EXISTS (SELECT 1 FROM still_halted)
      ORDER BY seq LIMIT ${limit})
    UPDATE deliveries SET status = 'halted', finished_at = now()
    WHERE campaign_id = ${campaignId} AND status = 'queued' AND seq <= (SELECT max(seq) FROM batch)
  `.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}

/** Halted campaigns whose clean-up did not finish: queued rows left, or snapshot recipients not in the ledger. */
export async function haltedNeedingClearing(db: Kysely<DB>): Promise<string[]> {
  const rows = await db
    .selectFrom('campaigns as c')
    .select('c.id')
    .where('c.status', '=', 'halted')
    .where(({ exists, not, or, selectFrom }) =>
      or([
        exists(selectFrom('deliveries as d').select('d.seq').whereRef('d.campaign_id', '=', 'c.id').where('d.status', '=', 'queued')),
        not(exists(selectFrom('deliveries as d').select('d.seq').whereRef('d.campaign_id', '=', 'c.id').whereRef('d.seq', '=', 'c.recipient_count'))),
      ]),
    )
    .execute();
  return rows.map((r) => r.id);
}

/**
 * Follow-through for a correction: every delivery of the original that is now `sent` or
 * `unknown` and not yet in the correction's ledger joins it. The caller holds the
 * correction's row lock, so two joins cannot hand out the same sequence numbers.
 */
export async function joinLateRecipients(trx: Transaction<DB>, correctionId: string, originalId: string, statuses: readonly string[]): Promise<{ fromSeq: number; toSeq: number } | null> {
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
  const raw = new Map<string, { campaignStatus: CampaignStatus; counts: Record<DeliveryStatus, number> }>();
  if (campaignIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('deliveries as d')
    .innerJoin('campaigns as c', 'c.id', 'd.campaign_id')
    .select(['d.campaign_id', 'd.status', 'c.status as campaign_status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('d.campaign_id', 'in', campaignIds)
    .groupBy(['d.campaign_id', 'd.status', 'c.status'])
    .execute();
  for (const row of rows) {
    const entry = raw.get(row.campaign_id) ?? { campaignStatus: row.campaign_status, counts: noDeliveries() };
    entry.counts[row.status] = Number(row.n);
    raw.set(row.campaign_id, entry);
  }
  return new Map([...raw].map(([id, { campaignStatus, counts }]) => [id, countsAsLedgerSays(counts, campaignStatus)]));
}
