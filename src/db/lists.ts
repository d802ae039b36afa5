import { sql, type Kysely } from 'kysely';
import type { RecipientInput } from '../domain/inputs.js';
import type { DB } from './schema.js';

export function insertList(db: Kysely<DB>, list: { id: string; name: string; createdBy: string }) {
  return db
    .insertInto('lists')
    .values({ id: list.id, name: list.name, created_by: list.createdBy })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export function findList(db: Kysely<DB>, id: string) {
  return db.selectFrom('lists').selectAll().where('id', '=', id).executeTakeFirst();
}

export function findListByName(db: Kysely<DB>, name: string) {
  return db.selectFrom('lists').selectAll().where('name', '=', name).executeTakeFirst();
}

export function listLists(db: Kysely<DB>) {
  return db
    .selectFrom('lists')
    .leftJoin('list_members', 'list_members.list_id', 'lists.id')
    .select(['lists.id', 'lists.name', 'lists.created_at', (eb) => eb.fn.count<number>('list_members.email').as('member_count')])
    .groupBy(['lists.id', 'lists.name', 'lists.created_at'])
    .orderBy('lists.name')
    .execute();
}

export async function countMembers(db: Kysely<DB>, listId: string): Promise<number> {
  const row = await db
    .selectFrom('list_members')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('list_id', '=', listId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Stages a batch of an import's rows, numbered from `firstOrd` in the order they arrived. */
export async function stageImportRows(db: Kysely<DB>, importId: string, firstOrd: number, rows: RecipientInput[]): Promise<void> {
  await sql`
    INSERT INTO import_rows (import_id, ord, email, name, fields)
    SELECT ${importId}, ${firstOrd} + r.i - 1, r.email, r.name, r.fields::jsonb
    FROM unnest(${rows.map((m) => m.email)}::text[], ${rows.map((m) => m.name)}::text[],
                ${rows.map((m) => JSON.stringify(m.fields))}::text[]) WITH ORDINALITY AS r(email, name, fields, i)
  `.execute(db);
}

/**
 * A staged import with its rows merged by address: the last non-empty name, and each field's
 * last value, in the order the rows arrived; `first` is where the address first appeared.
 */
function mergedImport(importId: string) {
  return sql`
    SELECT r.email,
           coalesce((array_agg(r.name ORDER BY r.ord DESC) FILTER (WHERE r.name <> ''))[1], '') AS name,
           coalesce(jsonb_object_agg(f.key, f.value ORDER BY r.ord) FILTER (WHERE f.key IS NOT NULL), '{}'::jsonb) AS fields,
           min(r.ord) AS first
    FROM import_rows r LEFT JOIN LATERAL jsonb_each(r.fields) AS f ON true
    WHERE r.import_id = ${importId}
    GROUP BY r.email`;
}

/** How many people a staged import holds once merged, and the first `previewSize` of them. */
export async function stagedImportSummary(
  db: Kysely<DB>,
  importId: string,
  previewSize: number,
): Promise<{ members: number; preview: RecipientInput[] }> {
  const counted = await sql<{ n: number }>`SELECT count(DISTINCT email)::int AS n FROM import_rows WHERE import_id = ${importId}`.execute(
    db,
  );
  const preview = await sql<RecipientInput>`
    SELECT email, name, fields FROM (${mergedImport(importId)}) m ORDER BY first LIMIT ${previewSize}
  `.execute(db);
  return { members: Number(counted.rows[0]!.n), preview: preview.rows };
}

/** Adds a staged import's people to a list, or updates those already on it, in one statement. */
export async function upsertStagedMembers(db: Kysely<DB>, listId: string, importId: string): Promise<void> {
  await sql`
    INSERT INTO list_members (list_id, email, name, fields)
    SELECT ${listId}, m.email, m.name, m.fields FROM (${mergedImport(importId)}) m
    ON CONFLICT (list_id, email) DO UPDATE SET name = excluded.name, fields = excluded.fields
  `.execute(db);
}

export async function dropStagedImport(db: Kysely<DB>, importId: string): Promise<void> {
  await db.deleteFrom('import_rows').where('import_id', '=', importId).execute();
}

/** Rows of imports left behind by a process that died while reading them. */
export async function dropAbandonedImports(db: Kysely<DB>, olderThanSeconds: number): Promise<void> {
  await sql`DELETE FROM import_rows WHERE staged_at < now() - make_interval(secs => ${olderThanSeconds})`.execute(db);
}

export function pageMembers(db: Kysely<DB>, listId: string, options: { limit: number; offset: number; search?: string }) {
  let query = db.selectFrom('list_members').select(['email', 'name', 'fields']).where('list_id', '=', listId);
  if (options.search) {
    const pattern = `%${options.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    query = query.where((eb) => eb.or([eb('email', 'ilike', pattern), eb('name', 'ilike', pattern)]));
  }
  return query.orderBy('email').limit(options.limit).offset(options.offset).execute();
}

/** Who changed a list's members: such a person may not approve a campaign sent to it. */
export async function recordListChange(db: Kysely<DB>, change: { listId: string; userId: string; members: number }): Promise<void> {
  await db.insertInto('list_changes').values({ list_id: change.listId, user_id: change.userId, members: change.members }).execute();
}

/** Everyone who changed the members of these lists at or after `since`, with the lists they changed. */
export function listChangesSince(db: Kysely<DB>, listIds: readonly string[], since: Date) {
  if (listIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('list_changes')
    .innerJoin('users', 'users.id', 'list_changes.user_id')
    .innerJoin('lists', 'lists.id', 'list_changes.list_id')
    .select(['users.id as user_id', 'users.name as user_name', 'lists.id as list_id', 'lists.name as list_name'])
    .where('list_changes.list_id', 'in', [...listIds])
    .where('list_changes.at', '>=', since)
    .groupBy(['users.id', 'users.name', 'lists.id', 'lists.name'])
    .orderBy('lists.name')
    .orderBy('users.name')
    .execute();
}
