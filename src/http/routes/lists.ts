import express, { Router, type Request, type Response } from 'express';
import { pagePosition } from '../../domain/inputs.js';
import type { AppContext } from '../../services/context.js';
import { AppError, parseInput } from '../../services/errors.js';
import { allLists, createList, getList, importMembers, listMembers, rowsFromCsv, validateRows } from '../../services/lists.js';
import { consoleChrome, redirectWithNotice } from '../notices.js';
import { listPage, listsPage, type ListPageModel } from '../views/lists.js';
import { checkCsrf, requireSignedIn } from '../web.js';

const MEMBERS_PAGE = 50;

/** Recipient lists: create, import from CSV with a preview, and page through members. */
export function listsRouter(ctx: AppContext): Router {
  const router = Router();
  router.use('/lists', express.urlencoded({ extended: false, limit: '10mb' }), requireSignedIn);

  router.get('/lists', async (req, res) => {
    res.send(listsPage(await allLists(ctx), await consoleChrome(ctx, req)));
  });
  router.post('/lists', async (req, res) => {
    try {
      const list = await createList(ctx, checkCsrf(req).actor, { name: req.body?.name ?? '' });
      res.redirect(303, `/lists/${list.id}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403) throw error;
      res.status(error.status).send(listsPage(await allLists(ctx), await consoleChrome(ctx, req), error.message));
    }
  });

  const renderList = async (req: Request, res: Response, extra: Pick<ListPageModel, 'csv' | 'preview'> = {}, status = 200) => {
    const list = await getList(ctx, String(req.params.id));
    const search = typeof req.query.q === 'string' ? req.query.q : '';
    const offset = parseInput(pagePosition.default(0), req.query.offset, 'offset');
    const { members, total } = await listMembers(ctx, list.id, { limit: MEMBERS_PAGE, offset, search });
    res.status(status).send(listPage({ list, members, total, search, offset, pageSize: MEMBERS_PAGE, ...extra }, await consoleChrome(ctx, req)));
  };
  router.get('/lists/:id', (req, res) => renderList(req, res));
  router.post('/lists/:id/import', async (req, res) => {
    const session = checkCsrf(req);
    const csv = String(req.body?.csv ?? '');
    try {
      const rows = rowsFromCsv(csv);
      if (req.body?.intent === 'import') {
        const report = await importMembers(ctx, session.actor, req.params.id!, rows);
        return redirectWithNotice(res, `/lists/${req.params.id}`, 'imported', { imported: report.imported, merged: report.mergedDuplicates });
      }
      const { members } = validateRows(rows, ctx.config.MAX_LIST_SIZE);
      await renderList(req, res, { csv, preview: { rows: members.slice(0, 10), bad: [], total: members.length } });
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403 || error.status === 404) throw error;
      const bad = error.issues.length ? error.issues : [{ field: 'csv', message: error.message }];
      await renderList(req, res, { csv, preview: { rows: [], bad, total: 0 } }, 400);
    }
  });
  return router;
}
