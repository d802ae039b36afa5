import { randomUUID } from 'node:crypto';
import type { ImportReport, ListSummary, ListView } from '../domain/api-shapes.js';
import { importLimits } from '../domain/import-limits.js';
import { newListInput, recipientInput, type RecipientInput } from '../domain/inputs.js';
import {
  countMembers,
  dropStagedImport,
  findList,
  findListByName,
  insertList,
  listLists,
  pageMembers,
  recordListChange,
  stagedImportSummary,
  stageImportRows,
  upsertStagedMembers,
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

/** An import read, checked and staged in the database, not yet in any list; see `stageImport`. */
export interface StagedImport {
  id: string;
  /** People once rows for the same address are merged. */
  members: number;
  mergedDuplicates: number;
  /** The first people of the import, merged, for a page to show before it is confirmed. */
  preview: RecipientInput[];
}

/** Rows written to the staging table at a time: what the process holds of an import. */
const STAGE_BATCH = 2000;
const PREVIEW_SIZE = 10;

/**
 * Reads an import as it arrives and checks it: refused (413) the moment it passes a cap, and otherwise
 * every row validated, so one bad row refuses the import (400) with each bad row named. Good rows
 * are staged a batch at a time, so memory does not grow with the import; no list changes.
 */
export async function stageImport(ctx: DataContext, source: ImportSource): Promise<StagedImport> {
  const limits = importLimits(ctx.config);
  const id = randomUUID();
  const issues: FieldIssue[] = [];
  let rows = 0;
  let staged = 0;
  let batch: RecipientInput[] = [];
  const flush = async () => {
    await stageImportRows(ctx.db, id, staged + 1, batch);
    staged += batch.length;
    batch = [];
  };
  try {
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
      // Once one row is bad nothing will be imported: the rest is only checked.
      if (issues.length > 0) continue;
      batch.push(parsed.data);
      if (batch.length >= STAGE_BATCH) await flush();
    }
    if (issues.length) throw invalid(issues);
    if (batch.length > 0) await flush();
    const { members, preview } = await stagedImportSummary(ctx.db, id, PREVIEW_SIZE);
    return { id, members, mergedDuplicates: staged - members, preview };
  } catch (error) {
    await dropStagedImport(ctx.db, id);
    throw error;
  }
}

/** A staged import that will not be saved (it was only previewed). */
export async function discardImport(ctx: DataContext, staged: StagedImport): Promise<void> {
  await dropStagedImport(ctx.db, staged.id);
}

async function checkCanImport(ctx: DataContext, actor: Actor, listId: string): Promise<void> {
  requireRole(actor, 'author', 'admin');
  if (!(await findList(ctx.db, listId))) throw notFound('list');
}

/** Reads, checks and imports: the role and the list are checked before a byte of the data is read. */
export async function importMembers(ctx: DataContext, actor: Actor, listId: string, source: ImportSource): Promise<ImportReport> {
  await checkCanImport(ctx, actor, listId);
  return saveImport(ctx, actor, listId, await stageImport(ctx, source));
}

/** Adds or updates the people of a staged import, all in one transaction; the staging goes either way. */
export async function saveImport(ctx: DataContext, actor: Actor, listId: string, staged: StagedImport): Promise<ImportReport> {
  try {
    await checkCanImport(ctx, actor, listId);
    return await ctx.db.transaction().execute(async (trx) => {
      await upsertStagedMembers(trx, listId, staged.id);
      await recordListChange(trx, { listId, userId: actor.id, members: staged.members });
      const memberCount = await countMembers(trx, listId);
      if (memberCount > ctx.config.MAX_LIST_SIZE) {
        throw new AppError(413, 'list_too_large', `the list would hold ${memberCount} members; the limit is ${ctx.config.MAX_LIST_SIZE}`);
      }
      await recordEvent(trx, {
        actor: actor.email,
        action: 'list.import',
        campaignId: null,
        data: { listId, imported: staged.members, mergedDuplicates: staged.mergedDuplicates },
        at: ctx.now(),
      });
      return { listId, imported: staged.members, mergedDuplicates: staged.mergedDuplicates, memberCount };
    });
  } finally {
    await dropStagedImport(ctx.db, staged.id);
  }
}
