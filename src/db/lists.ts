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

/** Upserts members in batches: one statement per batch through arrays, so no parameter limit. */
export async function upsertMembers(db: Kysely<DB>, listId: string, members: RecipientInput[], batchSize = 2000): Promise<void> {
  for (let start = 0; start < members.length; start += batchSize) {
    const batch = members.slice(start, start + batchSize);
    await sql`
      INSERT INTO list_members (list_id, email, name, fields)
      SELECT ${listId}, m.email, m.name, m.fields::jsonb
      FROM unnest(${batch.map((m) => m.email)}::text[], ${batch.map((m) => m.name)}::text[],
                  ${batch.map((m) => JSON.stringify(m.fields))}::text[]) AS m(email, name, fields)
      ON CONFLICT (list_id, email) DO UPDATE SET name = excluded.name, fields = excluded.fields
    `.execute(db);
  }
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
