import { sql, type Kysely, type Transaction } from 'kysely';
import type { CampaignStatus } from '../domain/campaign-state.js';
import { countsAsLedgerSays, DELIVERY_STATUSES, noDeliveries, type DeliveryStatus } from '../domain/delivery.js';
import { campaignGate } from './campaigns.js';
import { PREPARED } from './prepared.js';
import type { DB } from './schema.js';
import { containsPattern } from './search.js';

/** Creates a ledger row for each snapshot recipient in `fromSeq..toSeq`, in the database alone. Safe to repeat. */
export async function seedLedger(
  db: Kysely<DB>,
  campaignId: string,
  fromSeq: number,
  toSeq: number,
  status: 'queued' | 'halted' = 'queued',
): Promise<void> {
  // A recipient suppressed when the audience was frozen is recorded as skipped, with why.
  await sql`
    INSERT INTO deliveries (campaign_id, seq, email, name, fields, reply_to_message_id, status, smtp_response, finished_at)
    SELECT campaign_id, seq, email, name, fields, reply_to_message_id,
           CASE WHEN skip_reason IS NULL THEN ${status} ELSE 'skipped' END, skip_reason,
           CASE WHEN skip_reason IS NULL THEN NULL ELSE now() END
    FROM campaign_recipients WHERE campaign_id = ${campaignId} AND seq BETWEEN ${fromSeq} AND ${toSeq}
    ON CONFLICT DO NOTHING
  `.execute(db);
}

/**
 * Refreshes the planner's statistics of the ledger once a fan-out has added a campaign's rows, or
 * with `ifNone`, only when it has never had any. PGlite runs no autovacuum, so without this its
 * tables never have any: the generic plans of the per-message statements then took a campaign's
 * whole primary-key range for the few rows they touch, reading every row of the campaign each
 * time (a ledger step of 20 rows at 5,000 recipients: 4-6 ms against 1.4 ms). On PostgreSQL it
 * saves waiting for autovacuum; a role that does not own the table gets a warning, and
 * autovacuum does it as before.
 */
export async function refreshLedgerStatistics(db: Kysely<DB>, options: { ifNone?: boolean } = {}): Promise<void> {
  if (options.ifNone) {
    // -1: never analysed (PostgreSQL 14 on; PGlite is 17).
    const table = await sql<{ reltuples: number }>`SELECT reltuples FROM pg_class WHERE oid = 'deliveries'::regclass`.execute(db);
    if (Number(table.rows[0]?.reltuples) >= 0) return;
  }
  // The columns the per-message statements choose their index by, and the table's size: on PGlite,
  // which does nothing else meanwhile, 40-140 ms from 100,000 to a million rows, against 125-250 ms
  // for every column.
  await sql`ANALYZE deliveries (campaign_id, status, seq)`.execute(db);
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
  await trx
    .updateTable('deliveries')
    .set({ status: 'queued', claim_token: null })
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'halted')
    .execute();
}

export interface ReservedDelivery {
  seq: number;
  email: string;
  name: string;
  fields: Record<string, string>;
  reply_to_message_id: string | null;
  message_id: string;
}

/**
 * The guard every step towards SMTP shares: the campaign's gate taken shared (see campaignGate),
 * then a key-share lock on its row if it is still sending this exact content. A halt takes the
 * gate exclusive and the row for update, so it waits for the statements in progress, and a
 * statement that waited for it re-checks the row's newest version and does nothing.
 */
function stillSending(campaignId: string, contentHash: string) {
  return sql`gate AS (SELECT ${campaignGate(campaignId, 'shared')}),
    live AS (
      SELECT id FROM campaigns WHERE id = ${campaignId} AND status = 'sending' AND content_hash = ${contentHash}
        AND EXISTS (SELECT 1 FROM gate)
      FOR KEY SHARE)`;
}

const KILL_SWITCH_OFF = sql`NOT EXISTS (SELECT 1 FROM system_state s WHERE s.key = 'kill_switch' AND (s.value ->> 'engaged')::boolean)`;

/**
 * Reserves up to `limit` queued rows of a window for the worker holding `token`: they stay
 * `queued` (not in flight: a halt stops them) and get their Message-ID. A row whose reservation
 * is older than `staleSeconds` (its worker died, or stopped refreshing it) may be taken over.
 */
export async function reserveDeliveries(
  db: Kysely<DB>,
  claim: {
    campaignId: string;
    contentHash: string;
    fromSeq: number;
    toSeq: number;
    limit: number;
    messageIdDomain: string;
    token: string;
    staleSeconds: number;
    skipSeqs?: number[];
  },
): Promise<ReservedDelivery[]> {
  // The pick is a CTE so it runs exactly once: as an IN (subquery) the planner may re-run it
  // and, with SKIP LOCKED, take more rows than the limit. Its seqs reach the update as an
  // array, and the window's bounds as constants: with the ledger's statistics stale after a
  // fan-out (nothing has analysed the new rows yet), the planner took the campaign's queued
  // rows as a handful and checked the array against every one of them (291,000 rows, 208 ms
  // a reservation at 300,000 recipients); the bounds keep that walk inside the window.
  const result = await sql<ReservedDelivery>`${PREPARED}
    WITH ${stillSending(claim.campaignId, claim.contentHash)},
    picked AS (
      SELECT seq FROM deliveries
      WHERE campaign_id = ${claim.campaignId} AND seq BETWEEN ${claim.fromSeq} AND ${claim.toSeq} AND status = 'queued'
        AND (claim_token IS NULL OR claimed_at < now() - make_interval(secs => ${claim.staleSeconds}))
        AND seq <> ALL(${claim.skipSeqs ?? []}::int[]) AND EXISTS (SELECT 1 FROM live)
      ORDER BY seq LIMIT ${claim.limit}
      FOR UPDATE SKIP LOCKED)
    UPDATE deliveries d
    SET claim_token = ${claim.token}, claimed_at = now(),
        message_id = coalesce(d.message_id, '<' || d.campaign_id || '.' || d.seq || '@' || ${claim.messageIdDomain} || '>')
    WHERE d.campaign_id = ${claim.campaignId} AND d.seq BETWEEN ${claim.fromSeq} AND ${claim.toSeq}
      AND d.seq = ANY(ARRAY(SELECT seq FROM picked)) AND d.status = 'queued' AND ${KILL_SWITCH_OFF}
    RETURNING d.seq, d.email, d.name, d.fields, d.reply_to_message_id, d.message_id
  `.execute(db);
  return result.rows.sort((a, b) => a.seq - b.seq);
}

/** A delivery job's share of a campaign: the seqs from the fan-out's cut. */
export interface WindowRange {
  campaignId: string;
  fromSeq: number;
  toSeq: number;
}

/**
 * A job's reservations lie in its window: the seq bound makes the statement a range of the status
 * index. Without it, nothing indexes the token and each call read the whole ledger (107 ms at a
 * million rows, every few seconds for every job).
 */
export interface ReservationWindow extends WindowRange {
  token: string;
}

function reservationsOf(db: Kysely<DB>, window: ReservationWindow) {
  return db
    .updateTable('deliveries')
    .where('campaign_id', '=', window.campaignId)
    .where('status', '=', 'queued')
    .where('seq', '>=', window.fromSeq)
    .where('seq', '<=', window.toSeq)
    .where('claim_token', '=', window.token);
}

/** Keeps a worker's reservations fresh while its rows wait for a free SMTP connection. */
export async function refreshReservations(db: Kysely<DB>, window: ReservationWindow): Promise<void> {
  await reservationsOf(db, window).set({ claimed_at: new Date() }).execute();
}

/**
 * How long until the first row of the window that another job holds goes stale and may be taken
 * over (0 when it already may be); null when no other job holds one, or the campaign stopped
 * sending. A job that BullMQ re-runs after its process died may start before the dead job's
 * reservations go stale: it waits for them rather than end with them unsent.
 */
export async function untilHeldElsewhereGoesStale(
  db: Kysely<DB>,
  window: ReservationWindow & { contentHash: string; staleSeconds: number },
): Promise<number | null> {
  const result = await sql<{ wait_ms: number | null }>`
    SELECT ceil(extract(epoch FROM min(claimed_at) + make_interval(secs => ${window.staleSeconds}) - now()) * 1000)::int AS wait_ms
    FROM deliveries
    WHERE campaign_id = ${window.campaignId} AND status = 'queued' AND seq BETWEEN ${window.fromSeq} AND ${window.toSeq}
      AND claim_token <> ${window.token} AND claimed_at >= now() - make_interval(secs => ${window.staleSeconds})
      AND EXISTS (SELECT 1 FROM campaigns WHERE id = ${window.campaignId} AND status = 'sending' AND content_hash = ${window.contentHash})
  `.execute(db);
  // No such row: min() is null, and so is the wait (greatest() would have made it 0).
  const waitMs = result.rows[0]?.wait_ms ?? null;
  return waitMs === null ? null : Math.max(0, waitMs);
}

/** The queued rows some job holds a reservation on, with its token: what a worker that dies strands until the takeover. */
export async function reservedRows(db: Kysely<DB>, campaignId: string): Promise<{ seq: number; claim_token: string }[]> {
  const rows = await db
    .selectFrom('deliveries')
    .select(['seq', 'claim_token'])
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'queued')
    .where('claim_token', 'is not', null)
    .execute();
  return rows.map((r) => ({ seq: r.seq, claim_token: r.claim_token! }));
}

/** Hands back what a job reserved and never started, so the next job (after a halt is lifted, say) need not wait out the reservation. */
export async function releaseReservations(db: Kysely<DB>, window: ReservationWindow): Promise<void> {
  await reservationsOf(db, window).set({ claim_token: null }).execute();
}

/**
 * Moves reserved rows to `sending` as their SMTP transactions start, under the same guard: after
 * a halt or the kill switch commits, no row starts. Returns the rows that started, with the
 * attempt each is now on.
 */
export async function beginDeliveries(
  db: Kysely<DB>,
  campaignId: string,
  contentHash: string,
  rows: { seq: number; token: string }[],
): Promise<{ seq: number; attempts: number }[]> {
  return writeLedgerStep(db, campaignId, { starts: { contentHash, rows }, results: [] });
}

export interface DeliveryResult {
  seq: number;
  status: Extract<DeliveryStatus, 'sent' | 'failed' | 'unknown' | 'queued'>;
  response: string;
}

/** Records a batch of outcomes in one statement; only rows still `sending` change. A row back to `queued` is free to reserve. */
export async function recordResults(db: Kysely<DB>, campaignId: string, results: DeliveryResult[]): Promise<void> {
  await writeLedgerStep(db, campaignId, { results });
}

/**
 * One campaign's ledger step in one statement: the outcomes that arrived and the transactions
 * about to start (see `beginDeliveries` and `recordResults`). A connection that has its reply
 * usually starts its next message at once, so the two travel together: one round trip a message.
 */
export async function writeLedgerStep(
  db: Kysely<DB>,
  campaignId: string,
  step: { starts?: { contentHash: string; rows: { seq: number; token: string }[] }; results: DeliveryResult[] },
): Promise<{ seq: number; attempts: number }[]> {
  const starts = step.starts?.rows ?? [];
  const record = step.results.length > 0 ? recordedUpdate(campaignId, step.results) : null;
  if (starts.length === 0) {
    if (record) await sql`${PREPARED} ${record}`.execute(db);
    return [];
  }
  const seqs = starts.map((r) => r.seq);
  const result = await sql<{ seq: number; attempts: number }>`${PREPARED}
    WITH ${stillSending(campaignId, step.starts!.contentHash)}${record ? sql`, recorded AS (${record})` : sql``}
    UPDATE deliveries d SET status = 'sending', claimed_at = now(), attempts = d.attempts + 1
    FROM unnest(${seqs}::int[], ${starts.map((r) => r.token)}::text[]) AS r(seq, token)
    WHERE d.campaign_id = ${campaignId} AND ${seqRange(seqs)} AND d.seq = ANY(${seqs}::int[]) AND d.seq = r.seq AND d.claim_token = r.token
      AND d.status = 'queued' AND EXISTS (SELECT 1 FROM live) AND ${KILL_SWITCH_OFF}
    RETURNING d.seq, d.attempts
  `.execute(db);
  return result.rows.map((r) => ({ seq: Number(r.seq), attempts: Number(r.attempts) }));
}

/**
 * The seqs' range, as constants: the planner always makes a range on the status index's last
 * column part of the index condition. `seq = ANY` alone it may leave as a filter when it takes
 * the (campaign, status) range for a handful of rows, which it does with statistics stale after
 * a fan-out and for `sending`, rare among live rows; but that range also holds an entry for every
 * row that has passed through the status since the last vacuum, so each statement walked them
 * all: 300,000 queued entries a start, 25-75 ms a ledger step at 300,000 recipients.
 */
function seqRange(seqs: number[]) {
  return sql`d.seq BETWEEN ${Math.min(...seqs)} AND ${Math.max(...seqs)}`;
}

/**
 * `sending` comes as a subquery's answer, not a constant: PGlite never analyses its tables, and
 * its generic plan, seeing the constant match the in-flight index's predicate, ANDed that index
 * with the primary key's `campaign_id` range, reading every ledger row of the campaign for each
 * batch of outcomes (100,000 recipients: 370 msg/s against 720). Now only the seq ranges bound it.
 */
function recordedUpdate(campaignId: string, results: DeliveryResult[]) {
  const seqs = results.map((r) => r.seq);
  return sql`
    UPDATE deliveries d
    SET status = r.status, smtp_response = r.response, claim_token = NULL,
        finished_at = CASE WHEN r.status = 'queued' THEN NULL ELSE now() END
    FROM unnest(${seqs}::int[], ${results.map((r) => r.status)}::text[],
                ${results.map((r) => r.response.slice(0, 1000))}::text[]) AS r(seq, status, response)
    WHERE d.campaign_id = ${campaignId} AND d.status = (SELECT 'sending') AND ${seqRange(seqs)} AND d.seq = ANY(${seqs}::int[]) AND d.seq = r.seq
  `;
}

/** A campaign's rows in one status: a range of the status index, short for the rare ones (failed, sending). */
async function countInStatus(db: Kysely<DB>, campaignId: string, status: DeliveryStatus): Promise<number> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaignId)
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export function countFailed(db: Kysely<DB>, campaignId: string): Promise<number> {
  return countInStatus(db, campaignId, 'failed');
}

/**
 * A campaign's attempts with an outcome (sent, failed, unknown), counted no further than `limit`.
 * Each status is read in seq order so that the planner walks the status index: asked for any
 * `limit` rows of `status IN (...)`, it scanned the table from its start, where the rows still
 * queued lie (200 ms at a million rows before the first sent one, against 3 ms).
 */
export async function countAttemptsUpTo(db: Kysely<DB>, campaignId: string, limit: number): Promise<number> {
  const attempts = (status: DeliveryStatus) =>
    sql`(SELECT 1 FROM deliveries WHERE campaign_id = ${campaignId} AND status = ${status} ORDER BY seq LIMIT ${limit})`;
  const result = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM (
      ${attempts('sent')} UNION ALL ${attempts('failed')} UNION ALL ${attempts('unknown')} LIMIT ${limit}
    ) counted`.execute(db);
  return Number(result.rows[0]!.n);
}

/** The ledger's counts by status, as `countsAsLedgerSays` reads them for the campaign's status. */
export async function countByStatus(db: Kysely<DB>, campaignId: string): Promise<Record<DeliveryStatus, number>> {
  const counts = await countsForCampaigns(db, [campaignId]);
  return counts.get(campaignId) ?? noDeliveries();
}

/** Whether the campaign has a row in any of `statuses`: per status, one probe of the status index from its lowest seq. */
export async function hasDeliveriesIn(db: Kysely<DB>, campaignId: string, statuses: readonly DeliveryStatus[]): Promise<boolean> {
  for (const status of statuses) {
    const found = await sql<{ seq: number }>`
      SELECT d.seq FROM deliveries d
      WHERE d.campaign_id = ${campaignId} AND d.status >= ${status} AND d.status <= ${status}
      ORDER BY d.status, d.seq LIMIT 1`.execute(db);
    if (found.rows.length > 0) return true;
  }
  return false;
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

/**
 * Walks a finished window's queued and in-flight ranges of the status index. Each row the job
 * sent left entries behind in both; the walk finds their heap rows dead and marks the entries so
 * (PostgreSQL's kill hint, the only clean-up between vacuums), and every later reader of those
 * ranges skips them. A halt reads both ranges from the campaign's first seq: a tenth into a
 * million-recipient send with no vacuum between, it visited 100,000 dead `sending` entries
 * (95 ms) to count 20 rows in flight.
 */
export async function passOverFinishedWindow(db: Kysely<DB>, window: WindowRange): Promise<void> {
  await finishedWindowWalk(window).execute(db);
}

/**
 * The walk itself (its plan is tested). An index scan, since a bitmap scan marks nothing. The
 * status is an equality, so the window's seqs bound the scan at both ends: as a range of the
 * status, each walk read every entry of its status (900,000 queued ones at a million). The lower
 * bound is a row comparison, which only the status index can use: with a plain seq range, the
 * planner read the window through the seq index instead, leaving the status index as it was.
 */
export function finishedWindowWalk(window: WindowRange) {
  return sql`
    SELECT count(*) FROM unnest(${['queued', 'sending']}::text[]) AS s(status),
      LATERAL (
        SELECT d.seq FROM deliveries d
        WHERE d.campaign_id = ${window.campaignId} AND d.status = s.status
          AND (d.status, d.seq) >= (s.status, ${window.fromSeq}) AND d.seq <= ${window.toSeq}
        ORDER BY d.seq LIMIT ${window.toSeq - window.fromSeq + 1}) AS left_behind
  `;
}

/** Who may have the campaign (sent, unknown) and who is about to (in flight): three ranges of the status index, not the whole ledger. */
export async function countReached(db: Kysely<DB>, campaignId: string): Promise<{ sent: number; unknown: number; sending: number }> {
  const inStatus = (status: DeliveryStatus) =>
    sql`(SELECT count(*) FROM deliveries d WHERE d.campaign_id = ${campaignId} AND d.status = ${status})::int`;
  const result = await sql<{ sent: number; unknown: number; sending: number }>`
    SELECT ${inStatus('sent')} AS sent, ${inStatus('unknown')} AS unknown, ${inStatus('sending')} AS sending`.execute(db);
  return result.rows[0]!;
}

export function pageDeliveries(
  db: Kysely<DB>,
  campaignId: string,
  options: { status?: DeliveryStatus; search?: string; afterSeq: number; limit: number },
) {
  let query = db
    .selectFrom('deliveries')
    .select(['seq', 'email', 'name', 'status', 'message_id', 'attempts', 'smtp_response', 'claimed_at', 'finished_at'])
    .where('campaign_id', '=', campaignId)
    .where('seq', '>', options.afterSeq);
  if (options.status) query = query.where('status', '=', options.status);
  if (options.search) query = query.where('email', 'ilike', containsPattern(options.search));
  return query.orderBy('seq').limit(options.limit).execute();
}

/** Outcomes that happened at a moment: what a deliveries-over-time chart draws. */
const TIMED_OUTCOMES = ['sent', 'failed', 'unknown'] as const;

/** When the first and the last outcome of a campaign were recorded; null before any. */
export async function outcomeSpan(db: Kysely<DB>, campaignId: string): Promise<{ first: Date; last: Date } | null> {
  const row = await db
    .selectFrom('deliveries')
    .select((eb) => [eb.fn.min('finished_at').as('first'), eb.fn.max('finished_at').as('last')])
    .where('campaign_id', '=', campaignId)
    .where('status', 'in', [...TIMED_OUTCOMES])
    .executeTakeFirst();
  return row?.first && row.last ? { first: new Date(row.first), last: new Date(row.last) } : null;
}

/** Outcomes counted per bucket of `bucketSeconds` from the epoch, in the database: the ledger never passes through this process. */
export async function outcomesPerBucket(db: Kysely<DB>, campaignId: string, bucketSeconds: number) {
  const result = await sql<{ bucket: string; status: (typeof TIMED_OUTCOMES)[number]; n: number }>`
    SELECT (floor(extract(epoch FROM finished_at) / ${bucketSeconds}) * ${bucketSeconds})::bigint AS bucket, status, count(*)::int AS n
    FROM deliveries
    WHERE campaign_id = ${campaignId} AND status = ANY(${[...TIMED_OUTCOMES]}::text[]) AND finished_at IS NOT NULL
    GROUP BY 1, 2 ORDER BY 1
  `.execute(db);
  return result.rows.map((r) => ({ start: new Date(Number(r.bucket) * 1000), status: r.status, count: Number(r.n) }));
}

/**
 * Where the windows start that still have rows no live job holds: queued and unreserved, or
 * reserved by a job that stopped refreshing it. Windows are aligned to `windowSize` from seq 1,
 * as the fan-out cuts them. One probe of the status index per such window, each jumping past the
 * window it found: reading every queued row took 700 ms at a million recipients, every sweep.
 */
export async function unheldWindowStarts(db: Kysely<DB>, campaignId: string, windowSize: number, staleSeconds: number): Promise<number[]> {
  // ORDER BY ... LIMIT 1, not min(seq): with the statistics stale after a fan-out, the planner
  // counted on few rows and aggregated every queued row above `fromSeq` for each window.
  const firstUnheldFrom = (fromSeq: unknown) => sql`(
    SELECT ((seq - 1) / ${windowSize}) * ${windowSize} + 1 FROM deliveries
    WHERE campaign_id = ${campaignId} AND status = 'queued' AND seq >= ${fromSeq}
      AND (claim_token IS NULL OR claimed_at < now() - make_interval(secs => ${staleSeconds}))
    ORDER BY seq LIMIT 1)`;
  const result = await sql<{ from_seq: number }>`
    WITH RECURSIVE windows(from_seq) AS (
      SELECT ${firstUnheldFrom(1)}
      UNION ALL
      SELECT ${firstUnheldFrom(sql`w.from_seq + ${windowSize}`)} FROM windows w WHERE w.from_seq IS NOT NULL)
    SELECT from_seq FROM windows WHERE from_seq IS NOT NULL ORDER BY from_seq
  `.execute(db);
  return result.rows.map((r) => Number(r.from_seq));
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

/** Statuses a row takes once the send has reached it: every other row is `queued` or was `skipped` when copied. */
const REACHED_STATUSES = DELIVERY_STATUSES.filter((status) => status !== 'queued' && status !== 'skipped');

/** The counts `countHaltable` starts from, in one statement (its plan is tested). */
export function haltableCounts(campaignId: string) {
  // Each status's highest seq is the last entry of its range of the status index, and the lowest
  // queued seq the first of its range. Written as `max(seq) ... status = s.status`, the planner
  // could instead walk the (campaign_id, seq) index down from the top, filtering by status: with
  // the statistics the fan-out leaves (every row queued) it expects a match at once, and met
  // 900,000 queued rows first (2.7 s inside a million-recipient halt, every sending step waiting
  // on it). A range on the status, ordered by it, is an order only the status index gives.
  // The queued rows below the highest seq reached lie in the windows under way: counted from the
  // lowest queued seq, not from 1, they are a short range. From 1, it was a bitmap (or a
  // sequential scan) over every row the send had passed and each one's dead versions: 280-400 ms
  // at a tenth of a million, with no vacuum between.
  return sql<{ reached: number; top: number; queuedBelow: number; skippedAbove: number; inFlight: number }>`
    WITH reached AS (
      SELECT coalesce(max(highest.seq), 0) AS seq
      FROM unnest(${[...REACHED_STATUSES]}::text[]) AS s(status),
        LATERAL (
          SELECT d.seq FROM deliveries d
          WHERE d.campaign_id = ${campaignId} AND d.status >= s.status AND d.status <= s.status
          ORDER BY d.status DESC, d.seq DESC LIMIT 1) AS highest),
    lowest_queued AS (
      SELECT d.seq FROM deliveries d
      WHERE d.campaign_id = ${campaignId} AND d.status >= 'queued' AND d.status <= 'queued'
      ORDER BY d.status, d.seq LIMIT 1),
    top AS (SELECT coalesce(max(seq), 0) AS seq FROM deliveries WHERE campaign_id = ${campaignId})
    SELECT reached.seq AS reached, top.seq AS top,
      (SELECT count(*) FROM deliveries d
        WHERE d.campaign_id = ${campaignId} AND d.status = 'queued'
          AND d.seq >= (SELECT seq FROM lowest_queued) AND d.seq <= reached.seq)::int AS "queuedBelow",
      (SELECT count(*) FROM deliveries d WHERE d.campaign_id = ${campaignId} AND d.status = 'skipped' AND d.seq > reached.seq)::int AS "skippedAbove",
      (SELECT count(*) FROM deliveries d WHERE d.campaign_id = ${campaignId} AND d.status = 'sending')::int AS "inFlight"
    FROM reached, top
  `;
}

/**
 * What a halt finds: queued rows (reserved or not) and snapshot recipients the fan-out has not
 * yet copied (it stops both), and rows whose SMTP transaction has started (they may complete).
 *
 * It runs inside the halt, so it must not walk every queued row: at a million recipients that
 * took over a second. The ledger's seqs are contiguous from 1 and windows go in seq order, so
 * every row above the highest seq the send has reached is queued or skipped; only the queued
 * rows below it (the windows under way) and the skipped rows above it are counted, each a range
 * of the status index.
 */
export async function countHaltable(
  db: Kysely<DB>,
  campaignId: string,
  recipientCount: number,
): Promise<{ stopped: number; inFlight: number }> {
  const result = await haltableCounts(campaignId).execute(db);
  const row = result.rows[0]!;
  const queued = Number(row.queuedBelow) + (Number(row.top) - Number(row.reached)) - Number(row.skippedAbove);
  const notCopied = recipientCount - (await seededThrough(db, campaignId, recipientCount));
  return { stopped: queued + notCopied, inFlight: Number(row.inFlight) };
}

/**
 * Rewrites the first `limit` queued rows of a halted campaign as `halted` (and any row that turned
 * queued among them meanwhile); returns how many. The share lock on the campaign serialises it
 * with a resume, which re-queues halted rows: once the campaign is no longer halted, this changes
 * nothing. A halted row is nobody's reservation: a resume finds it free. The batch reaches the update as a seq bound, an index condition: as an array, with the
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
    UPDATE deliveries SET status = 'halted', finished_at = now(), claim_token = NULL
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
        not(
          exists(
            selectFrom('deliveries as d')
              .select('d.seq')
              .whereRef('d.campaign_id', '=', 'c.id')
              .whereRef('d.seq', '=', 'c.recipient_count'),
          ),
        ),
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
export async function joinLateRecipients(
  trx: Transaction<DB>,
  correctionId: string,
  originalId: string,
  statuses: readonly string[],
): Promise<{ fromSeq: number; toSeq: number } | null> {
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

/** One recipient whose delivery is inside its SMTP transaction now, if any. */
export function sampleInFlight(db: Kysely<DB>, campaignId: string) {
  return db
    .selectFrom('deliveries')
    .select(['email', 'name', 'fields'])
    .where('campaign_id', '=', campaignId)
    .where('status', '=', 'sending')
    .orderBy('seq')
    .limit(1)
    .executeTakeFirst();
}

export function countInFlight(db: Kysely<DB>, campaignId: string): Promise<number> {
  return countInStatus(db, campaignId, 'sending');
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
