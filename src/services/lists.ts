import { randomUUID } from 'node:crypto';
import type { ImportReport, ListSummary, ListView } from '../domain/api-shapes.js';
import { importLimits } from '../domain/import-limits.js';
import { newListInput, recipientInput, type RecipientInput } from '../domain/inputs.js';
import {
  countMembers,
  findList,
  findListByName,
  insertList,
  listLists,
  pageMembers,
  recordListChange,
  upsertMembers,
} from '../db/lists.js';
import { requireRole, type Actor, type DataContext } from './context.js';
import { AppError, conflict, invalid, issuesFromZod, notFound, parseInput, type FieldIssue } from './errors.js';
import { recordEvent } from './audit.js';
import { rowsOf, type ImportSource } from './member-rows.js';

export type { ImportSource } from './member-rows.js';

export type { ImportReport } from '../domain/api-shapes.js';

function listView(row: { id: string; name: string; created_by: string; created_at: Date }): ListView {
  return { id: row.id, name: row.name, createdBy: row.created_by, createdAt: row.created_at };
}

export async function createList(ctx: DataContext, actor: Actor, body: unknown): Promise<ListView> {
  requireRole(actor, 'author', 'admin');
  const { name } = parseInput(newListInput, body);
  if (await findListByName(ctx.db, name)) throw conflict('list_exists', `a list named "${name}" already exists`);
  return ctx.db.transaction().execute(async (trx) => {
    const list = await insertList(trx, { id: randomUUID(), name, createdBy: actor.id });
    await recordEvent(trx, { actor: actor.email, action: 'list.create', campaignId: null, data: { listId: list.id, name }, at: ctx.now() });
    return listView(list);
  });
}

export async function allLists(ctx: DataContext): Promise<ListSummary[]> {
  const rows = await listLists(ctx.db);
  return rows.map((l) => ({ id: l.id, name: l.name, createdAt: l.created_at, memberCount: Number(l.member_count) }));
}

export async function getList(ctx: DataContext, id: string): Promise<ListView> {
  const list = await findList(ctx.db, id);
  if (!list) throw notFound('list');
  return listView(list);
}

export async function listNamed(ctx: DataContext, name: string): Promise<ListView | undefined> {
  const list = await findListByName(ctx.db, name);
  return list && listView(list);
}

/** A page of a list's members, optionally only those whose address or name contains `search`; 404 for an unknown list. */
export async function listMembers(ctx: DataContext, listId: string, page: { limit: number; offset: number; search?: string }) {
  await getList(ctx, listId);
  const [members, total] = await Promise.all([pageMembers(ctx.db, listId, page), countMembers(ctx.db, listId)]);
  return { members, total };
}

export interface ValidatedImport {
  members: RecipientInput[];
  mergedDuplicates: number;
}

/**
 * Reads an import as it arrives and checks it: refused (413) the moment it passes a cap, and otherwise
 * every row validated, so one bad row refuses the import (400) with each bad row named. Writes nothing.
 */
export async function readImport(ctx: DataContext, source: ImportSource): Promise<ValidatedImport> {
  const limits = importLimits(ctx.config);
  const issues: FieldIssue[] = [];
  const byEmail = new Map<string, RecipientInput>();
  let rows = 0;
  let mergedDuplicates = 0;
  for await (const row of rowsOf(source, limits)) {
    rows += 1;
    if (rows > limits.maxRows)
      throw new AppError(
        413,
        'list_too_large',
        `the import has more than ${limits.maxRows} rows; the limit is ${limits.maxRows}; nothing was imported`,
      );
    if ('problem' in row) {
      issues.push({ field: row.where, message: row.problem });
      continue;
    }
    const parsed = recipientInput.safeParse(row.value);
    if (!parsed.success) {
      issues.push(...issuesFromZod(parsed.error, row.where));
      continue;
    }
    const previous = byEmail.get(parsed.data.email);
    if (previous) {
      mergedDuplicates += 1;
      byEmail.set(parsed.data.email, {
        email: previous.email,
        name: parsed.data.name || previous.name,
        fields: { ...previous.fields, ...parsed.data.fields },
      });
    } else {
      byEmail.set(parsed.data.email, parsed.data);
    }
  }
  if (issues.length) throw invalid(issues);
  return { members: [...byEmail.values()], mergedDuplicates };
}

async function checkCanImport(ctx: DataContext, actor: Actor, listId: string): Promise<void> {
  requireRole(actor, 'author', 'admin');
  if (!(await findList(ctx.db, listId))) throw notFound('list');
}

/** Reads, checks and imports: the role and the list are checked before a byte of the data is read. */
export async function importMembers(ctx: DataContext, actor: Actor, listId: string, source: ImportSource): Promise<ImportReport> {
  await checkCanImport(ctx, actor, listId);
  return saveImport(ctx, actor, listId, await readImport(ctx, source));
}

/** Adds or updates the members of an import already read and checked, all in one transaction. */
export async function saveImport(
  ctx: DataContext,
  actor: Actor,
  listId: string,
  { members, mergedDuplicates }: ValidatedImport,
): Promise<ImportReport> {
  await checkCanImport(ctx, actor, listId);
  return ctx.db.transaction().execute(async (trx) => {
    await upsertMembers(trx, listId, members);
    await recordListChange(trx, { listId, userId: actor.id, members: members.length });
    const memberCount = await countMembers(trx, listId);
    if (memberCount > ctx.config.MAX_LIST_SIZE) {
      throw new AppError(413, 'list_too_large', `the list would hold ${memberCount} members; the limit is ${ctx.config.MAX_LIST_SIZE}`);
    }
    await recordEvent(trx, {
      actor: actor.email,
      action: 'list.import',
      campaignId: null,
      data: { listId, imported: members.length, mergedDuplicates },
      at: ctx.now(),
    });
    return { listId, imported: members.length, mergedDuplicates, memberCount };
  });
}
