import { sql, type Kysely, type Transaction } from 'kysely';
import { chainHash, GENESIS_HASH, type AuditEventBody, type ChainedEvent } from '../domain/audit-chain.js';
import type { DB } from './schema.js';

// Any fixed number: every append takes this lock so two concurrent actions cannot fork the chain.
const AUDIT_CHAIN_LOCK = 7_300_201;

/** Must run inside the transaction of the action it records: both land, or neither does. */
export async function appendAuditEvent(trx: Transaction<DB>, body: AuditEventBody): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${AUDIT_CHAIN_LOCK})`.execute(trx);
  const last = await trx.selectFrom('audit_events').select('hash').orderBy('id', 'desc').limit(1).executeTakeFirst();
  const prevHash = last?.hash ?? GENESIS_HASH;
  await trx
    .insertInto('audit_events')
    .values({
      at: body.at,
      actor: body.actor,
      action: body.action,
      campaign_id: body.campaignId,
      data: JSON.stringify(body.data),
      prev_hash: prevHash,
      hash: chainHash(prevHash, body),
    })
    .execute();
}

type AuditRow = {
  id: number;
  at: Date;
  actor: string;
  action: string;
  campaign_id: string | null;
  data: Record<string, unknown>;
  prev_hash: string;
  hash: string;
};

function toChained(row: AuditRow): ChainedEvent {
  return {
    id: Number(row.id),
    at: row.at.toISOString(),
    actor: row.actor,
    action: row.action,
    campaignId: row.campaign_id,
    data: row.data,
    prevHash: row.prev_hash,
    hash: row.hash,
  };
}

export async function campaignAuditEvents(db: Kysely<DB>, campaignId: string): Promise<ChainedEvent[]> {
  const rows = await db.selectFrom('audit_events').selectAll().where('campaign_id', '=', campaignId).orderBy('id').execute();
  return rows.map(toChained);
}

/** The whole chain in id order, a page at a time. */
export async function* allAuditEvents(db: Kysely<DB>, pageSize = 2000): AsyncGenerator<ChainedEvent> {
  let after = 0;
  for (;;) {
    const rows = await db.selectFrom('audit_events').selectAll().where('id', '>', after).orderBy('id').limit(pageSize).execute();
    for (const row of rows) yield toChained(row);
    if (rows.length < pageSize) return;
    after = Number(rows[rows.length - 1]!.id);
  }
}

/** The newest event of one kind, e.g. the last policy the system ran with. */
export async function lastAuditEvent(db: Kysely<DB>, action: string): Promise<ChainedEvent | undefined> {
  const row = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', action)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? toChained(row) : undefined;
}

/** The newest event and the number of events up to it, in one statement, so both come from one snapshot. */
export async function auditHead(db: Kysely<DB>): Promise<{ lastId: number; lastHash: string; count: number } | null> {
  const row = await db
    .selectFrom('audit_events as newest')
    .select(['newest.id', 'newest.hash'])
    .select((eb) =>
      eb
        .selectFrom('audit_events as e')
        .select((inner) => inner.fn.countAll<number>().as('n'))
        .whereRef('e.id', '<=', 'newest.id')
        .as('count'),
    )
    .orderBy('newest.id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row ? { lastId: Number(row.id), lastHash: row.hash, count: Number(row.count) } : null;
}

/** The newest event after `afterId` whose action is one of `actions`. */
export function newestEventWithAction(db: Kysely<DB>, afterId: number, actions: readonly string[]) {
  return db
    .selectFrom('audit_events')
    .select(['id', 'action'])
    .where('id', '>', afterId)
    .where('action', 'in', actions)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}
