import { sql, type Kysely, type Transaction } from 'kysely';
import type { Role } from '../domain/inputs.js';
import type { DryRunOutcome, RetractionItemStatus, RetractionStatus } from '../domain/retraction.js';
import type { DeliveryStatus } from '../domain/delivery.js';
import type { DB, RetractionRow } from './schema.js';

type Db = Kysely<DB> | Transaction<DB>;

export async function insertRetraction(
  trx: Transaction<DB>,
  row: Omit<RetractionRow, 'checked_at' | 'started_at' | 'finished_at' | 'halted_at' | 'halt_reason'>,
): Promise<RetractionRow> {
  return trx.insertInto('retractions').values(row).returningAll().executeTakeFirstOrThrow();
}

/**
 * The retraction's ledger, copied from the original's: one row per delivery that may have
 * reached someone, with the Message-ID recorded for that recipient. Nothing else is ever a target.
 */
export async function seedRetractionItems(
  trx: Transaction<DB>,
  retractionId: string,
  campaignId: string,
  statuses: readonly DeliveryStatus[],
): Promise<number> {
  const result = await sql`
    INSERT INTO retraction_items (retraction_id, seq, email, message_id)
    SELECT ${retractionId}, seq, email, message_id FROM deliveries
    WHERE campaign_id = ${campaignId} AND status = ANY(${[...statuses]}::text[])
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

export function findRetractionOf(db: Db, campaignId: string): Promise<RetractionRow | undefined> {
  return db.selectFrom('retractions').selectAll().where('campaign_id', '=', campaignId).executeTakeFirst();
}

export function findRetraction(db: Db, id: string): Promise<RetractionRow | undefined> {
  return db.selectFrom('retractions').selectAll().where('id', '=', id).executeTakeFirst();
}

export function lockRetractionOf(trx: Transaction<DB>, campaignId: string): Promise<RetractionRow | undefined> {
  return trx.selectFrom('retractions').selectAll().where('campaign_id', '=', campaignId).forUpdate().executeTakeFirst();
}

/** Moves a retraction on only from one of `from`; undefined when it was elsewhere (someone else moved it first). */
export function updateRetractionIf(
  db: Db,
  id: string,
  from: readonly RetractionStatus[],
  patch: Partial<Omit<RetractionRow, 'id'>>,
): Promise<RetractionRow | undefined> {
  return db
    .updateTable('retractions')
    .set(patch)
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .returningAll()
    .executeTakeFirst();
}

export function retractionsInStatus(db: Db, statuses: readonly RetractionStatus[]): Promise<RetractionRow[]> {
  return db
    .selectFrom('retractions')
    .selectAll()
    .where('status', 'in', [...statuses])
    .execute();
}

export interface RetractionTarget {
  seq: number;
  email: string;
  message_id: string | null;
  /** What the original's ledger holds for this recipient now: the only Message-ID that may be touched. */
  ledger_message_id: string | null;
  /** True when a worker had taken this row before and did not finish it. */
  resumed: boolean;
}

/** Rows the dry run has not looked at yet. */
export async function uncheckedItems(db: Db, retractionId: string, limit: number): Promise<RetractionTarget[]> {
  const result = await sql<RetractionTarget>`
    SELECT i.seq, i.email, i.message_id, d.message_id AS ledger_message_id, false AS resumed
    FROM retraction_items i JOIN retractions r ON r.id = i.retraction_id
    LEFT JOIN deliveries d ON d.campaign_id = r.campaign_id AND d.seq = i.seq AND d.email = i.email
    WHERE i.retraction_id = ${retractionId} AND i.dry_run IS NULL AND r.status = 'checking'
    ORDER BY i.seq LIMIT ${limit}
  `.execute(db);
  return result.rows;
}

export async function recordDryRun(db: Db, retractionId: string, seq: number, outcome: DryRunOutcome, response: string): Promise<void> {
  await db
    .updateTable('retraction_items')
    .set({ dry_run: outcome, dry_run_response: response.slice(0, 1000) })
    .where('retraction_id', '=', retractionId)
    .where('seq', '=', seq)
    .execute();
}

export async function hasUncheckedItems(db: Db, retractionId: string): Promise<boolean> {
  const row = await db
    .selectFrom('retraction_items')
    .select('seq')
    .where('retraction_id', '=', retractionId)
    .where('dry_run', 'is', null)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Takes the next row to act on for the worker holding `token`, in the same statement that checks
 * the retraction is still running: once a halt commits, nothing more is taken. A row a worker
 * took and never finished is taken over after `staleSeconds`.
 */
export async function claimItem(
  db: Kysely<DB>,
  retractionId: string,
  token: string,
  staleSeconds: number,
): Promise<RetractionTarget | undefined> {
  const result = await sql<RetractionTarget>`
    WITH live AS (SELECT id, campaign_id FROM retractions WHERE id = ${retractionId} AND status = 'running' FOR KEY SHARE),
    picked AS (
      SELECT seq, status = 'working' AS resumed FROM retraction_items
      WHERE retraction_id = ${retractionId} AND EXISTS (SELECT 1 FROM live)
        AND (status = 'pending' OR (status = 'working' AND claimed_at < now() - make_interval(secs => ${staleSeconds})))
      ORDER BY seq LIMIT 1
      FOR UPDATE SKIP LOCKED)
    UPDATE retraction_items i
    SET status = 'working', claim_token = ${token}, claimed_at = now(), attempts = i.attempts + 1
    FROM picked
    WHERE i.retraction_id = ${retractionId} AND i.seq = picked.seq AND i.status IN ('pending', 'working')
    RETURNING i.seq, i.email, i.message_id, picked.resumed,
      (SELECT d.message_id FROM deliveries d, live WHERE d.campaign_id = live.campaign_id AND d.seq = i.seq AND d.email = i.email) AS ledger_message_id
  `.execute(db);
  return result.rows[0];
}

/** Writes what happened to a row this worker holds. */
export async function finishItem(
  db: Kysely<DB>,
  retractionId: string,
  seq: number,
  token: string,
  status: RetractionItemStatus,
  response: string,
): Promise<void> {
  await db
    .updateTable('retraction_items')
    .set({ status, response: response.slice(0, 1000), claim_token: null, finished_at: new Date() })
    .where('retraction_id', '=', retractionId)
    .where('seq', '=', seq)
    .where('claim_token', '=', token)
    .where('status', '=', 'working')
    .execute();
}

/** Keeps a row fresh while its worker retries, so nobody takes it over meanwhile. */
export async function touchItem(db: Kysely<DB>, retractionId: string, seq: number, token: string): Promise<void> {
  await db
    .updateTable('retraction_items')
    .set({ claimed_at: new Date() })
    .where('retraction_id', '=', retractionId)
    .where('seq', '=', seq)
    .where('claim_token', '=', token)
    .execute();
}

/** At a halt: every row not yet taken is `halted`. Returns how many, and how many are being worked on. */
export async function haltItems(trx: Transaction<DB>, retractionId: string): Promise<{ stopped: number; inFlight: number }> {
  const stopped = await trx
    .updateTable('retraction_items')
    .set({ status: 'halted', finished_at: new Date() })
    .where('retraction_id', '=', retractionId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  const working = await trx
    .selectFrom('retraction_items')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('retraction_id', '=', retractionId)
    .where('status', '=', 'working')
    .executeTakeFirstOrThrow();
  return { stopped: Number(stopped.numUpdatedRows), inFlight: Number(working.n) };
}

export async function countItemStatuses(db: Db, retractionId: string): Promise<{ key: string; n: string }[]> {
  return db
    .selectFrom('retraction_items')
    .select(['status as key', (eb) => eb.fn.countAll<string>().as('n')])
    .where('retraction_id', '=', retractionId)
    .groupBy('status')
    .execute();
}

export async function countDryRun(db: Db, retractionId: string): Promise<{ key: string; n: string }[]> {
  return db
    .selectFrom('retraction_items')
    .select(['dry_run as key', (eb) => eb.fn.countAll<string>().as('n')])
    .where('retraction_id', '=', retractionId)
    .where('dry_run', 'is not', null)
    .groupBy('dry_run')
    .execute() as Promise<{ key: string; n: string }[]>;
}

export function pageItems(db: Db, retractionId: string, options: { afterSeq: number; limit: number; status?: RetractionItemStatus }) {
  let query = db
    .selectFrom('retraction_items')
    .select(['seq', 'email', 'message_id', 'dry_run', 'dry_run_response', 'status', 'response', 'attempts', 'finished_at'])
    .where('retraction_id', '=', retractionId)
    .where('seq', '>', options.afterSeq);
  if (options.status) query = query.where('status', '=', options.status);
  return query.orderBy('seq').limit(options.limit).execute();
}

export async function addRetractionApproval(trx: Transaction<DB>, retractionId: string, approverId: string, at: Date): Promise<boolean> {
  const row = await trx
    .insertInto('retraction_approvals')
    .values({ retraction_id: retractionId, approver_id: approverId, created_at: at })
    .onConflict((oc) => oc.doNothing())
    .returning('approver_id')
    .executeTakeFirst();
  return row !== undefined;
}

/** Who approved, with the roles they hold now; a deactivated person's approval does not count. */
export async function retractionApprovals(
  db: Db,
  retractionId: string,
): Promise<{ approverId: string; email: string; roles: Role[]; at: Date }[]> {
  const rows = await db
    .selectFrom('retraction_approvals as a')
    .innerJoin('users as u', 'u.id', 'a.approver_id')
    .select(['a.approver_id', 'u.email', 'u.roles', 'a.created_at'])
    .where('a.retraction_id', '=', retractionId)
    .where('u.disabled_at', 'is', null)
    .orderBy('a.created_at')
    .execute();
  return rows.map((r) => ({ approverId: r.approver_id, email: r.email, roles: r.roles, at: r.created_at }));
}
