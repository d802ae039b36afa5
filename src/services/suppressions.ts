import type { SuppressionView } from '../domain/api-shapes.js';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { suppressionInput, type SuppressionInput } from '../domain/inputs.js';
import { deleteSuppression, pageSuppressions, upsertSuppressions } from '../db/suppressions.js';
import { recordEvent } from './audit.js';
import { requireRole, type Actor, type AppContext } from './context.js';
import { AppError, invalid, issuesFromZod, notFound, type FieldIssue } from './errors.js';

/**
 * The suppression list: people who left, and people who opted out of mail that is not
 * mandatory. Applied when a campaign's audience is frozen: their rows are `skipped`, with why.
 */

/** CSV with a header `email,kind,reason`, or JSON `[{email, kind, reason}]`; one bad row and nothing changes. */
export function suppressionsFrom(body: unknown, contentType: 'csv' | 'json', maxRows: number): SuppressionInput[] {
  let rows: { where: string; value: unknown }[];
  if (contentType === 'csv') {
    let records: Record<string, string>[];
    try {
      records = parse(String(body ?? '').replace(/\r\n?/g, '\n'), {
        columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
        bom: true,
        skip_empty_lines: true,
        trim: true,
      });
    } catch (error) {
      throw invalid([{ field: 'csv', message: (error as Error).message }]);
    }
    // The header is line 1.
    rows = records.map((value, i) => ({ where: `line ${i + 2}`, value }));
  } else {
    const list = Array.isArray(body) ? body : (body as { suppressions?: unknown } | null)?.suppressions;
    if (!Array.isArray(list)) throw invalid([{ field: 'suppressions', message: 'expected an array of {email, kind, reason}' }]);
    rows = list.map((value, i) => ({ where: `entry ${i + 1}`, value }));
  }
  if (rows.length > maxRows) throw new AppError(413, 'list_too_large', `the import has ${rows.length} rows; the limit is ${maxRows}`);
  const issues: FieldIssue[] = [];
  const valid: SuppressionInput[] = [];
  for (const row of rows) {
    const parsed = suppressionInput.safeParse(row.value);
    if (parsed.success) valid.push(parsed.data);
    else issues.push(...issuesFromZod(parsed.error, row.where));
  }
  if (issues.length) throw invalid(issues);
  return valid;
}

export async function importSuppressions(ctx: AppContext, actor: Actor, rows: SuppressionInput[]): Promise<{ imported: number }> {
  requireRole(actor, 'admin');
  await ctx.db.transaction().execute(async (trx) => {
    await upsertSuppressions(trx, rows, actor.email);
    await recordEvent(trx, {
      actor: actor.email,
      action: 'suppressions.import',
      campaignId: null,
      data: { count: rows.length },
      at: ctx.now(),
    });
  });
  return { imported: rows.length };
}

export const suppressionPaging = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
});

export async function listSuppressions(ctx: AppContext, actor: Actor, page: z.infer<typeof suppressionPaging>): Promise<SuppressionView[]> {
  requireRole(actor, 'author', 'approver', 'admin');
  const rows = await pageSuppressions(ctx.db, page);
  return rows.map((s) => ({ email: s.email, kind: s.kind, reason: s.reason, addedBy: s.added_by, addedAt: s.added_at }));
}

export async function removeSuppression(ctx: AppContext, actor: Actor, email: string): Promise<void> {
  requireRole(actor, 'admin');
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await deleteSuppression(trx, email.trim().toLowerCase()))) throw notFound('suppression');
    await recordEvent(trx, { actor: actor.email, action: 'suppressions.remove', campaignId: null, data: { email }, at: ctx.now() });
  });
}
