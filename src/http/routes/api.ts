import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { CAMPAIGN_STATUSES } from '../../domain/campaign-state.js';
import { DELIVERY_STATUSES } from '../../domain/delivery.js';
import { campaignAuditEvents } from '../../db/audit.js';
import { listCampaigns } from '../../db/campaigns.js';
import { pageDeliveries } from '../../db/deliveries.js';
import { findList, listLists, pageMembers } from '../../db/lists.js';
import { approveByApi, rejectByApi } from '../../services/approvals.js';
import { verifyAuditChain } from '../../services/audit.js';
import { cancelCampaign, createCampaign, describeCampaign, editCampaign, getCampaign, submitCampaign } from '../../services/campaigns.js';
import { requireRole, type AppContext } from '../../services/context.js';
import { notFound, parseInput } from '../../services/errors.js';
import { createList, importMembers, rowsFromCsv, rowsFromJson } from '../../services/lists.js';
import { haltAll, haltCampaign, killSwitch, resumeAll } from '../../services/halt.js';
import { recallCampaign } from '../../services/recall.js';
import { actorOf, bearerAuth } from '../auth.js';

const paging = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: z.coerce.number().int().min(0).default(0),
});

export function apiRouter(ctx: AppContext): Router {
  const router = Router();
  router.use(express.json({ limit: '20mb' }), express.text({ type: ['text/csv', 'text/plain'], limit: '50mb' }));
  router.use(bearerAuth(ctx));

  router.get('/me', (req, res) => {
    const { id, email, name, roles } = actorOf(req);
    res.json({ id, email, name, roles });
  });

  router.post('/lists', async (req, res) => {
    res.status(201).json(await createList(ctx, actorOf(req), req.body));
  });
  router.get('/lists', async (_req, res) => {
    res.json({ lists: await listLists(ctx.db) });
  });
  router.get('/lists/:id', async (req, res) => {
    const list = await findList(ctx.db, req.params.id!);
    if (!list) throw notFound('list');
    res.json(list);
  });
  router.get('/lists/:id/members', async (req, res) => {
    const query = parseInput(paging.extend({ q: z.string().max(200).optional() }), req.query, 'query');
    if (!(await findList(ctx.db, req.params.id!))) throw notFound('list');
    res.json({ members: await pageMembers(ctx.db, req.params.id!, { ...query, search: query.q }) });
  });
  router.post('/lists/:id/members', async (req, res) => {
    const rows = req.is('text/csv') || req.is('text/plain') ? rowsFromCsv(String(req.body ?? '')) : rowsFromJson(req.body);
    res.json(await importMembers(ctx, actorOf(req), req.params.id!, rows));
  });

  router.post('/campaigns', async (req, res) => {
    const campaign = await createCampaign(ctx, actorOf(req), req.body);
    res.status(201).json(await describeCampaign(ctx, campaign));
  });
  router.get('/campaigns', async (req, res) => {
    const query = parseInput(paging.extend({ status: z.enum(CAMPAIGN_STATUSES).optional() }), req.query, 'query');
    const campaigns = await listCampaigns(ctx.db, query);
    res.json({ campaigns: await Promise.all(campaigns.map((c) => describeCampaign(ctx, c))) });
  });
  router.get('/campaigns/:id', async (req, res) => {
    res.json(await describeCampaign(ctx, await getCampaign(ctx, req.params.id!)));
  });
  router.patch('/campaigns/:id', async (req, res) => {
    res.json(await describeCampaign(ctx, await editCampaign(ctx, actorOf(req), req.params.id!, req.body)));
  });

  const action = (run: (req: Request) => Promise<{ id: string }>) => async (req: Request, res: Response) => {
    const campaign = await run(req);
    res.json(await describeCampaign(ctx, await getCampaign(ctx, campaign.id)));
  };
  router.post('/campaigns/:id/submit', action((req) => submitCampaign(ctx, actorOf(req), req.params.id as string)));
  router.post('/campaigns/:id/approve', action((req) => approveByApi(ctx, actorOf(req), req.params.id as string, req.body ?? {})));
  router.post('/campaigns/:id/reject', action((req) => rejectByApi(ctx, actorOf(req), req.params.id as string, req.body ?? {})));
  router.post('/campaigns/:id/cancel', action((req) => cancelCampaign(ctx, actorOf(req), req.params.id as string)));

  router.post('/campaigns/:id/halt', async (req, res) => {
    const { reason } = parseInput(z.object({ reason: z.string().trim().min(1).max(2000).optional() }), req.body ?? {});
    res.json(await haltCampaign(ctx, actorOf(req), req.params.id as string, reason));
  });
  router.post('/campaigns/:id/recall', async (req, res) => {
    const report = await recallCampaign(ctx, actorOf(req), req.params.id as string, req.body);
    res.status(201).json({ ...report, correction: await describeCampaign(ctx, report.correction) });
  });
  router.post('/halt-all', async (req, res) => {
    const { reason } = parseInput(z.object({ reason: z.string().trim().min(1).max(2000).optional() }), req.body ?? {});
    res.json(await haltAll(ctx, actorOf(req), reason));
  });
  router.post('/resume-all', async (req, res) => {
    res.json(await resumeAll(ctx, actorOf(req)));
  });
  router.get('/kill-switch', async (_req, res) => {
    res.json(await killSwitch(ctx));
  });

  router.get('/campaigns/:id/deliveries', async (req, res) => {
    const query = parseInput(
      z.object({
        status: z.enum(DELIVERY_STATUSES).optional(),
        after: z.coerce.number().int().min(0).default(0),
        limit: z.coerce.number().int().min(1).max(5000).default(500),
        format: z.enum(['json', 'csv']).default('json'),
      }),
      req.query,
      'query',
    );
    const campaign = await getCampaign(ctx, req.params.id!);
    if (query.format === 'csv') return streamDeliveriesCsv(ctx, campaign.id, query.status, res);
    const rows = await pageDeliveries(ctx.db, campaign.id, { status: query.status, afterSeq: query.after, limit: query.limit });
    const last = rows.at(-1);
    res.json({ deliveries: rows, next: rows.length === query.limit && last ? last.seq : null });
  });
  router.get('/campaigns/:id/audit', async (req, res) => {
    const campaign = await getCampaign(ctx, req.params.id!);
    res.json({ events: await campaignAuditEvents(ctx.db, campaign.id) });
  });
  router.get('/audit/verify', async (req, res) => {
    requireRole(actorOf(req), 'admin');
    res.json(await verifyAuditChain(ctx.db));
  });
  return router;
}

function csvCell(value: unknown): string {
  const text = value instanceof Date ? value.toISOString() : value === null || value === undefined ? '' : String(value);
  // A leading = + - @ makes spreadsheets evaluate the cell; quote it away.
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

async function streamDeliveriesCsv(ctx: AppContext, campaignId: string, status: (typeof DELIVERY_STATUSES)[number] | undefined, res: Response) {
  res.type('text/csv').attachment(`deliveries-${campaignId}.csv`);
  const columns = ['seq', 'email', 'name', 'status', 'message_id', 'attempts', 'smtp_response', 'claimed_at', 'finished_at'] as const;
  res.write(`${columns.join(',')}\n`);
  let after = 0;
  for (;;) {
    const rows = await pageDeliveries(ctx.db, campaignId, { status, afterSeq: after, limit: 5000 });
    for (const row of rows) res.write(`${columns.map((c) => csvCell(row[c])).join(',')}\n`);
    if (rows.length < 5000) break;
    after = rows.at(-1)!.seq;
  }
  res.end();
}
