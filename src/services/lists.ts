import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import { newListInput, recipientInput, type RecipientInput } from '../domain/inputs.js';
import { countMembers, findList, findListByName, insertList, listLists, pageMembers, recordListChange, upsertMembers } from '../db/lists.js';
import { requireRole, type Actor, type DataContext } from './context.js';
import { AppError, conflict, invalid, issuesFromZod, notFound, parseInput, type FieldIssue } from './errors.js';
import { recordEvent } from './audit.js';

export interface ImportReport {
  listId: string;
  imported: number;
  mergedDuplicates: number;
  memberCount: number;
}

export async function createList(ctx: DataContext, actor: Actor, body: unknown) {
  requireRole(actor, 'author', 'admin');
  const { name } = parseInput(newListInput, body);
  if (await findListByName(ctx.db, name)) throw conflict('list_exists', `a list named "${name}" already exists`);
  return ctx.db.transaction().execute(async (trx) => {
    const list = await insertList(trx, { id: randomUUID(), name, createdBy: actor.id });
    await recordEvent(trx, { actor: actor.email, action: 'list.create', campaignId: null, data: { listId: list.id, name }, at: ctx.now() });
    return list;
  });
}

export function allLists(ctx: DataContext) {
  return listLists(ctx.db);
}

export async function getList(ctx: DataContext, id: string) {
  const list = await findList(ctx.db, id);
  if (!list) throw notFound('list');
  return list;
}

export function listNamed(ctx: DataContext, name: string) {
  return findListByName(ctx.db, name);
}

/** A page of a list's members, optionally only those whose address or name contains `search`; 404 for an unknown list. */
export async function listMembers(ctx: DataContext, listId: string, page: { limit: number; offset: number; search?: string }) {
  await getList(ctx, listId);
  const [members, total] = await Promise.all([pageMembers(ctx.db, listId, page), countMembers(ctx.db, listId)]);
  return { members, total };
}

/** Each row as it stood in the file, with where it stood, before validation. */
interface RawRow {
  where: string;
  value: unknown;
}

/** Header names a spreadsheet may capitalise; every other column keeps its name as a merge field. */
const STANDARD_COLUMNS = new Set(['email', 'name']);

export function rowsFromCsv(text: string): RawRow[] {
  let records: { record: Record<string, string>; info: { lines: number }; raw: string }[];
  try {
    // CRLF becomes LF first: csv-parse counts CR and LF inside a quoted cell as two lines.
    records = parse(text.replace(/\r\n?/g, '\n'), {
      columns: (header: string[]) => header.map((h) => (STANDARD_COLUMNS.has(h.trim().toLowerCase()) ? h.trim().toLowerCase() : h.trim())),
      bom: true,
      skip_empty_lines: true,
      trim: true,
      info: true,
      raw: true,
    });
  } catch (error) {
    throw invalid([{ field: 'csv', message: (error as Error).message }]);
  }
  return records.map(({ record, info, raw }) => {
    const { email, name, ...fields } = record;
    const nonEmpty = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== ''));
    // csv-parse reports the line a record ends on; a person looks for the line it starts on.
    const spans = (raw.replace(/^\n+/, '').replace(/\n$/, '').match(/\n/g) ?? []).length;
    return { where: `line ${info.lines - spans}`, value: { email: email ?? '', name: name ?? '', fields: nonEmpty } };
  });
}

export function rowsFromJson(body: unknown): RawRow[] {
  const members = Array.isArray(body) ? body : (body as { members?: unknown } | null)?.members;
  if (!Array.isArray(members)) throw invalid([{ field: 'members', message: 'expected an array of members' }]);
  return members.map((value, index) => ({ where: `entry ${index + 1}`, value }));
}

/** Validates every row first: one bad row and nothing is imported, with each bad row named. */
export function validateRows(rows: RawRow[], maxSize: number): { members: RecipientInput[]; mergedDuplicates: number } {
  if (rows.length > maxSize) throw new AppError(413, 'list_too_large', `the import has ${rows.length} rows; the limit is ${maxSize}`);
  const issues: FieldIssue[] = [];
  const byEmail = new Map<string, RecipientInput>();
  let mergedDuplicates = 0;
  for (const row of rows) {
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

export async function importMembers(ctx: DataContext, actor: Actor, listId: string, rows: RawRow[]): Promise<ImportReport> {
  requireRole(actor, 'author', 'admin');
  if (!(await findList(ctx.db, listId))) throw notFound('list');
  const { members, mergedDuplicates } = validateRows(rows, ctx.config.MAX_LIST_SIZE);
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
