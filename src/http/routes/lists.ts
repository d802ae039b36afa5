import express, { Router, type Request, type Response } from 'express';
import { pagePosition } from '../../domain/inputs.js';
import type { AppContext } from '../../services/context.js';
import { AppError, parseInput } from '../../services/errors.js';
import {
  allLists,
  createList,
  discardImport,
  getList,
  listMembers,
  saveImport,
  stageImport,
  type StagedImport,
} from '../../services/lists.js';
import { consoleChrome, redirectWithNotice } from '../notices.js';
import { listPage, listsPage, type ListPageModel } from '../views/lists.js';
import { endAfterEarlyAnswer, requestChunks } from '../request-body.js';
import { StreamedForm } from '../streamed-form.js';
import { checkCsrf, checkCsrfToken, requireSignedIn } from '../web.js';

const MEMBERS_PAGE = 50;

type RenderList = (req: Request, res: Response, extra?: Pick<ListPageModel, 'csv' | 'preview'>, status?: number) => Promise<void>;

/** Recipient lists: create, import from CSV with a preview, and page through members. */
export function listsRouter(ctx: AppContext): Router {
  const router = Router();
  const renderList: RenderList = async (req, res, extra = {}, status = 200) => {
    const list = await getList(ctx, String(req.params.id));
    const search = typeof req.query.q === 'string' ? req.query.q : '';
    const offset = parseInput(pagePosition.default(0), req.query.offset, 'offset');
    const { members, total } = await listMembers(ctx, list.id, { limit: MEMBERS_PAGE, offset, search });
    res
      .status(status)
      .send(listPage({ list, members, total, search, offset, pageSize: MEMBERS_PAGE, ...extra }, await consoleChrome(ctx, req)));
  };
  router.post('/lists/:id/import', requireSignedIn, importRoute(ctx, renderList));
  router.use('/lists', express.urlencoded({ extended: false, limit: '20kb' }), requireSignedIn);

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

  router.get('/lists/:id', (req, res) => renderList(req, res));
  return router;
}

/**
 * The import form, read as it arrives (its CSV never whole in a parsed body): every bad row named
 * before anything is imported, and refused the moment it passes a cap. Routed ahead of the small form parser.
 */
function importRoute(ctx: AppContext, renderList: RenderList) {
  return async (req: Request, res: Response) => {
    const list = await getList(ctx, String(req.params.id));
    const form = new StreamedForm(requestChunks(req), 'csv');
    const received: string[] = [];
    const csv = async function* () {
      for await (const piece of form.streamedValue()) {
        received.push(piece);
        yield piece;
      }
    };
    const refuse = async (error: unknown) => {
      if (!(error instanceof AppError) || error.status === 403 || error.status === 404) throw error;
      endAfterEarlyAnswer(req, res);
      const bad = error.issues.length ? error.issues : [{ field: 'csv', message: error.message }];
      // A refusal before the end of the form has only part of the CSV: the person chooses the file again.
      await renderList(
        req,
        res,
        { csv: form.complete ? received.join('') : '', preview: { rows: [], bad, total: 0 } },
        error.status === 413 ? 413 : 400,
      );
    };
    let staged: StagedImport;
    try {
      staged = await stageImport(ctx, { format: 'csv', chunks: csv() });
    } catch (error) {
      checkCsrfToken(req, form.fields._csrf);
      return refuse(error);
    }
    let session: ReturnType<typeof checkCsrfToken>;
    try {
      session = checkCsrfToken(req, form.fields._csrf);
    } catch (error) {
      await discardImport(ctx, staged);
      throw error;
    }
    if (form.fields.intent === 'import') {
      try {
        const report = await saveImport(ctx, session.actor, list.id, staged);
        return redirectWithNotice(res, `/lists/${list.id}`, 'imported', { imported: report.imported, merged: report.mergedDuplicates });
      } catch (error) {
        return refuse(error);
      }
    }
    await discardImport(ctx, staged);
    await renderList(req, res, { csv: received.join(''), preview: { rows: staged.preview, bad: [], total: staged.members } });
  };
}
