import express, { Router, type Request, type Response } from 'express';
import { campaignsQuery, deliveriesQuery, haltInput, membersQuery } from '../../domain/inputs.js';
import { approveByApi, rejectByApi } from '../../services/approvals.js';
import { campaignAudit, verifyAuditChain } from '../../services/audit.js';
import {
  cancelCampaign,
  createCampaign,
  describeCampaign,
  editCampaign,
  findCampaigns,
  getCampaign,
  submitCampaign,
  type Campaign,
} from '../../services/campaigns.js';
import { requireRole, type AppContext } from '../../services/context.js';
import { notFound, parseInput } from '../../services/errors.js';
import { haltAll, haltCampaign, killSwitch, resumeAll } from '../../services/halt.js';
import { deliveriesPage, everyDelivery } from '../../services/ledger.js';
import { continueCampaign } from '../../services/first-wave.js';
import { allLists, createList, getList, importMembers, listMembers } from '../../services/lists.js';
import {
  importSuppressions,
  listSuppressions,
  removeSuppression,
  suppressionPaging,
  suppressionsFrom,
} from '../../services/suppressions.js';
import { sendTest } from '../../services/test-send.js';
import { recallCampaign } from '../../services/recall.js';
import { approveRetraction, haltRetraction, retractionItems, retractionReport } from '../../services/retraction.js';
import { actorOf, bearerAuth } from '../auth.js';
import { streamLedgerCsv } from '../ledger-csv.js';
import { importSource, jsonOnly } from '../request-body.js';

/** The largest JSON body of any route but an import: a campaign's 200,000-character body and 5,000 pasted recipients. */
const JSON_BODY_LIMIT = '2mb';

export function apiRouter(ctx: AppContext): Router {
  const router = Router();
  router.use(bearerAuth(ctx));
  // An import reads its own body as it arrives, with caps sized from MAX_LIST_SIZE (src/domain/import-limits.ts).
  router.post('/lists/:id/members', async (req, res) => {
    res.json(await importMembers(ctx, actorOf(req), req.params.id!, importSource(req)));
  });
  router.use(jsonOnly({ '/suppressions': ['text/csv', 'text/plain'] }), express.json({ limit: JSON_BODY_LIMIT }));

  router.get('/me', (req, res) => {
    const { id, email, name, roles } = actorOf(req);
    res.json({ id, email, name, roles });
  });

  router.post('/lists', async (req, res) => {
    res.status(201).json(await createList(ctx, actorOf(req), req.body));
  });
  router.get('/lists', async (_req, res) => {
    res.json({ lists: await allLists(ctx) });
  });
  router.get('/lists/:id', async (req, res) => {
    res.json(await getList(ctx, req.params.id!));
  });
  router.get('/lists/:id/members', async (req, res) => {
    const query = parseInput(membersQuery, req.query, 'query');
    const { members } = await listMembers(ctx, req.params.id!, { ...query, search: query.q });
    res.json({ members });
  });

  router.post('/campaigns', async (req, res) => {
    const campaign = await createCampaign(ctx, actorOf(req), req.body);
    res.status(201).json(await describeCampaign(ctx, campaign));
  });
  router.get('/campaigns', async (req, res) => {
    const query = parseInput(campaignsQuery, req.query, 'query');
    const campaigns = await findCampaigns(
      ctx,
      { status: query.status, kind: query.kind, authorId: query.author, subject: query.q || undefined },
      query,
    );
    res.json({ campaigns: await Promise.all(campaigns.map((c) => describeCampaign(ctx, c))) });
  });
  router.get('/campaigns/:id', async (req, res) => {
    res.json(await describeCampaign(ctx, await getCampaign(ctx, req.params.id!)));
  });
  router.patch('/campaigns/:id', async (req, res) => {
    res.json(await describeCampaign(ctx, await editCampaign(ctx, actorOf(req), req.params.id!, req.body)));
  });

  // The campaign as the action left it: a worker may already have moved it on (a send with no hold window).
  const action = (run: (req: Request) => Promise<Campaign>) => async (req: Request, res: Response) => {
    res.json(await describeCampaign(ctx, await run(req)));
  };
  router.post(
    '/campaigns/:id/submit',
    action((req) => submitCampaign(ctx, actorOf(req), req.params.id as string)),
  );
  router.post(
    '/campaigns/:id/approve',
    action((req) => approveByApi(ctx, actorOf(req), req.params.id as string, req.body ?? {})),
  );
  router.post(
    '/campaigns/:id/reject',
    action((req) => rejectByApi(ctx, actorOf(req), req.params.id as string, req.body ?? {})),
  );
  router.post(
    '/campaigns/:id/cancel',
    action((req) => cancelCampaign(ctx, actorOf(req), req.params.id as string)),
  );

  router.post('/campaigns/:id/test-send', async (req, res) => {
    res.json(await sendTest(ctx, actorOf(req), req.params.id as string, req.body));
  });
  router.post('/campaigns/:id/halt', async (req, res) => {
    const { reason } = parseInput(haltInput, req.body ?? {});
    res.json(await haltCampaign(ctx, actorOf(req), req.params.id as string, reason));
  });
  router.post('/campaigns/:id/recall', async (req, res) => {
    const report = await recallCampaign(ctx, actorOf(req), req.params.id as string, req.body);
    res.status(201).json({ ...report, correction: await describeCampaign(ctx, report.correction) });
  });
  router.get('/campaigns/:id/retraction', async (req, res) => {
    const report = await retractionReport(ctx, (await getCampaign(ctx, req.params.id!)).id);
    if (!report) throw notFound('retraction');
    res.json(report);
  });
  router.get('/campaigns/:id/retraction/items', async (req, res) => {
    res.json(await retractionItems(ctx, req.params.id!, req.query));
  });
  router.post('/campaigns/:id/retraction/approve', async (req, res) => {
    res.json(await approveRetraction(ctx, actorOf(req), req.params.id!));
  });
  router.post('/campaigns/:id/retraction/halt', async (req, res) => {
    res.json(await haltRetraction(ctx, actorOf(req), req.params.id!, req.body));
  });
  router.post('/halt-all', async (req, res) => {
    const { reason } = parseInput(haltInput, req.body ?? {});
    res.json(await haltAll(ctx, actorOf(req), reason));
  });
  router.post('/resume-all', async (req, res) => {
    res.json(await resumeAll(ctx, actorOf(req)));
  });
  router.get('/kill-switch', async (_req, res) => {
    res.json(await killSwitch(ctx));
  });

  // A suppression list is addresses and short reasons: 10 MB holds about 100,000 of them, read whole.
  router.post('/suppressions', express.text({ type: ['text/csv', 'text/plain'], limit: '10mb' }), async (req, res) => {
    const kind = req.is('text/csv') || req.is('text/plain') ? 'csv' : 'json';
    res.json(await importSuppressions(ctx, actorOf(req), suppressionsFrom(req.body, kind, ctx.config.MAX_LIST_SIZE)));
  });
  router.get('/suppressions', async (req, res) => {
    res.json({ suppressions: await listSuppressions(ctx, actorOf(req), parseInput(suppressionPaging, req.query, 'query')) });
  });
  router.delete('/suppressions/:email', async (req, res) => {
    await removeSuppression(ctx, actorOf(req), req.params.email!);
    res.status(204).end();
  });
  router.post('/campaigns/:id/continue', async (req, res) => {
    await continueCampaign(ctx, req.params.id as string, actorOf(req));
    res.json(await describeCampaign(ctx, await getCampaign(ctx, req.params.id as string)));
  });

  router.get('/campaigns/:id/deliveries', async (req, res) => {
    const query = parseInput(deliveriesQuery, req.query, 'query');
    const campaign = await getCampaign(ctx, req.params.id!);
    if (query.format === 'csv') return streamLedgerCsv(res, campaign.id, everyDelivery(ctx, campaign.id, { status: query.status }));
    const rows = await deliveriesPage(ctx, campaign.id, { status: query.status, afterSeq: query.after, limit: query.limit });
    const last = rows.at(-1);
    res.json({ deliveries: rows, next: rows.length === query.limit && last ? last.seq : null });
  });
  router.get('/campaigns/:id/audit', async (req, res) => {
    const campaign = await getCampaign(ctx, req.params.id!);
    res.json({ events: await campaignAudit(ctx.db, campaign.id) });
  });
  router.get('/audit/verify', async (req, res) => {
    requireRole(actorOf(req), 'admin');
    res.json(await verifyAuditChain(ctx));
  });
  return router;
}
