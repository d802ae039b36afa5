import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { approvalHistory, approvalRecords } from '../../db/approvals.js';
import { campaignAuditEvents } from '../../db/audit.js';
import { askedApprovers, countAudience, editorIds, findCampaign, listCampaigns, openCorrectionOf, sampleOfAudience, sampleRecipients } from '../../db/campaigns.js';
import { countByStatus, countsForCampaigns } from '../../db/deliveries.js';
import { countMembers, findList, listLists, pageMembers } from '../../db/lists.js';
import { findUserById, listUsers } from '../../db/users.js';
import { parsePastedRecipients } from '../../domain/pasted-recipients.js';
import { evaluateQuorum } from '../../domain/quorum.js';
import { isTimeZone, utcToZonedLocal, zonedLocalToUtc } from '../../domain/time-zone.js';
import { composeMessage, renderBodyHtml } from '../../mail/compose.js';
import { cancelCampaign, createCampaign, editCampaign, submitCampaign } from '../../services/campaigns.js';
import type { AppContext } from '../../services/context.js';
import { AppError, type FieldIssue } from '../../services/errors.js';
import { haltAll, haltCampaign, mayHalt, resumeAll } from '../../services/halt.js';
import { createList, importMembers, rowsFromCsv, validateRows } from '../../services/lists.js';
import { correctionBody, recallCampaign } from '../../services/recall.js';
import { addUserAsAdmin, changeRoles } from '../../services/users.js';
import { adminPage, campaignListPage, campaignPage, composePage, listPage, listsPage, progressOf, recallPage, type ComposeModel } from '../views/console.js';
import { checkCsrf, requireSignedIn, signedIn } from '../web.js';
import { renderForFirstRecipient } from './approval-links.js';
import { chromeFor } from './sign-in.js';

const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];
const MEMBERS_PAGE = 50;

const composeForm = z.object({
  subject: z.string().default(''),
  body: z.string().default(''),
  listIds: z.union([z.string(), z.array(z.string())]).default([]).transform((v) => (Array.isArray(v) ? v : [v])),
  recipients: z.string().default(''),
  sendAtLocal: z.string().default(''),
  timeZone: z.string().default('UTC'),
});
type ComposeValues = z.infer<typeof composeForm>;

/** The form's fields as the API's campaign input, plus errors only the form can have. */
function campaignInputFrom(values: ComposeValues): { input: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const pasted = parsePastedRecipients(values.recipients);
  if (pasted.errors.length) errors.recipients = pasted.errors.map((e) => `line ${e.line}: ${e.message}`).join('; ');
  let sendAt: string | null = null;
  if (values.sendAtLocal) {
    if (!isTimeZone(values.timeZone)) errors.sendAt = `unknown time zone ${values.timeZone}`;
    else {
      try {
        sendAt = zonedLocalToUtc(values.sendAtLocal, values.timeZone).toISOString();
      } catch {
        errors.sendAt = 'is not a date and time';
      }
    }
  }
  return { input: { subject: values.subject, body: values.body, audience: { listIds: values.listIds, recipients: pasted.recipients }, sendAt }, errors };
}

/** API field paths onto the form's fields, so each error shows beside its input. */
function formErrors(issues: FieldIssue[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const field = issue.field.startsWith('audience.recipients') ? 'recipients' : issue.field.startsWith('audience.listIds') ? 'lists' : issue.field === 'audience' ? 'lists' : issue.field;
    const key = ['subject', 'body', 'recipients', 'lists', 'sendAt'].includes(field) ? field : 'form';
    errors[key] = errors[key] ? `${errors[key]}; ${issue.message}` : issue.message;
  }
  return errors;
}

async function previewOf(ctx: AppContext, input: Record<string, unknown>) {
  const audience = input.audience as { listIds: string[]; recipients: { email: string; name: string; fields: Record<string, string> }[] };
  const listIds = (await Promise.all(audience.listIds.map((id) => findList(ctx.db, id)))).filter(Boolean).map((l) => l!.id);
  const spec = { listIds, recipients: audience.recipients };
  const [count, sample] = await Promise.all([countAudience(ctx.db, spec), sampleOfAudience(ctx.db, spec)]);
  const subject = String(input.subject ?? '');
  const body = String(input.body ?? '');
  if (!sample || !body) return { count, html: null };
  const message = composeMessage(
    { subject, bodyMarkdown: body, fromAddress: ctx.config.DEFAULT_FROM, fromName: ctx.config.DEFAULT_FROM_NAME },
    renderBodyHtml(body),
    { email: sample.email, name: sample.name, fields: sample.fields, messageId: '<preview@countersign>', replyToMessageId: null },
  );
  return { count, html: String(message.html) };
}

const NOTICES: Record<string, (q: Record<string, string>) => string> = {
  saved: () => 'Draft saved.',
  submitted: () => 'Submitted: the approvers have been emailed their review links.',
  cancelled: () => 'Campaign cancelled.',
  halted: (q) => `Halted. ${q.inFlight ?? 0} deliveries were already in flight; ${q.stopped ?? 0} were stopped.`,
  recalled: () => 'Correction created and sent to the approvers.',
  imported: (q) => `Imported ${q.imported ?? 0} members (${q.merged ?? 0} duplicates merged).`,
  'kill-engaged': () => 'Kill switch engaged: everything scheduled or sending is halted.',
  'kill-released': () => 'Kill switch released. Halted campaigns still need a fresh approval.',
  'user-added': () => 'Person added. They sign in with their email address.',
  'roles-saved': () => 'Roles saved.',
};

export function consoleRouter(ctx: AppContext): Router {
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '10mb' }));
  router.use(['/', '/campaigns', '/lists', '/admin'], (req, res, next) => (req.path === '/healthz' ? next() : requireSignedIn(req, res, next)));

  const chrome = async (req: Request) => {
    const base = await chromeFor(ctx, req);
    const notice = typeof req.query.notice === 'string' ? NOTICES[req.query.notice]?.(req.query as Record<string, string>) : undefined;
    return { ...base, notice };
  };
  const back = (res: Response, path: string, notice: string, extra: Record<string, string | number> = {}) =>
    res.redirect(303, `${path}?${new URLSearchParams({ notice, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) })}`);

  router.get('/', async (req, res) => {
    const campaigns = await listCampaigns(ctx.db, { limit: 100, offset: 0 });
    const counts = await countsForCampaigns(ctx.db, campaigns.map((c) => c.id));
    const items = await Promise.all(
      campaigns.map(async (campaign) => ({
        campaign,
        approved: campaign.content_hash
          ? evaluateQuorum({ requiredApprovals: campaign.required_approvals, contentHash: campaign.content_hash, authorId: campaign.author_id, editorIds: await editorIds(ctx.db, campaign.id), approvals: await approvalRecords(ctx.db, campaign.id) }).approvedBy.length
          : 0,
        counts: counts.get(campaign.id) ?? { queued: 0, sending: 0, sent: 0, failed: 0, halted: 0, skipped: 0, unknown: 0 },
      })),
    );
    res.send(campaignListPage(items, await chrome(req)));
  });

  const renderCompose = async (req: Request, res: Response, model: Omit<ComposeModel, 'lists' | 'timeZones'>, status = 200) => {
    res.status(status).send(composePage({ ...model, lists: await listLists(ctx.db), timeZones: TIME_ZONES }, await chrome(req)));
  };
  const emptyValues: ComposeValues = { subject: '', body: '', listIds: [], recipients: '', sendAtLocal: '', timeZone: 'UTC' };

  router.get('/campaigns/new', (req, res) => renderCompose(req, res, { action: '/campaigns', values: emptyValues, errors: {}, editing: false }));

  router.post('/campaigns/preview', async (req, res) => {
    checkCsrf(req);
    const { input, errors } = campaignInputFrom(composeForm.parse(req.body ?? {}));
    res.json({ ...(await previewOf(ctx, input)), errors });
  });

  /** Save or preview, for a new campaign or an edit: one flow, errors shown beside their fields. */
  const handleCompose = async (req: Request, res: Response, campaignId: string | null) => {
    const session = checkCsrf(req);
    const values = composeForm.parse(req.body ?? {});
    const { input, errors } = campaignInputFrom(values);
    const action = campaignId ? `/campaigns/${campaignId}/edit` : '/campaigns';
    const model = { action, values, editing: campaignId !== null };
    if (req.body?.intent === 'preview' || Object.keys(errors).length) {
      return renderCompose(req, res, { ...model, errors, preview: await previewOf(ctx, input) }, Object.keys(errors).length ? 400 : 200);
    }
    try {
      const campaign = campaignId ? await editCampaign(ctx, session.actor, campaignId, input) : await createCampaign(ctx, session.actor, input);
      back(res, `/campaigns/${campaign.id}`, 'saved');
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      await renderCompose(req, res, { ...model, errors: formErrors(error.issues), preview: await previewOf(ctx, input) }, 400);
    }
  };
  router.post('/campaigns', (req, res) => handleCompose(req, res, null));

  const loadCampaign = async (id: string) => {
    const campaign = await findCampaign(ctx.db, id);
    if (!campaign) throw new AppError(404, 'not_found', 'campaign not found');
    return campaign;
  };

  router.get('/campaigns/:id/edit', async (req, res) => {
    const campaign = await loadCampaign(req.params.id!);
    const zone = 'UTC';
    const values: ComposeValues = {
      subject: campaign.subject,
      body: campaign.body_markdown,
      listIds: campaign.audience.listIds,
      recipients: campaign.audience.recipients.map((r) => (r.name ? `${r.name} <${r.email}>` : r.email)).join('\n'),
      sendAtLocal: campaign.send_at ? utcToZonedLocal(campaign.send_at, zone) : '',
      timeZone: zone,
    };
    const { input } = campaignInputFrom(values);
    await renderCompose(req, res, { action: `/campaigns/${campaign.id}/edit`, values, errors: {}, editing: true, preview: await previewOf(ctx, input) });
  });
  router.post('/campaigns/:id/edit', (req, res) => handleCompose(req, res, req.params.id!));

  router.get('/campaigns/:id', async (req, res) => {
    const campaign = await loadCampaign(req.params.id!);
    const session = signedIn(req);
    const [author, history, records, editors, counts, audit, sample, correction, original] = await Promise.all([
      findUserById(ctx.db, campaign.author_id),
      approvalHistory(ctx.db, campaign.id),
      approvalRecords(ctx.db, campaign.id),
      editorIds(ctx.db, campaign.id),
      countByStatus(ctx.db, campaign.id),
      campaignAuditEvents(ctx.db, campaign.id),
      sampleRecipients(ctx.db, campaign.id, 1),
      openCorrectionOf(ctx.db, campaign.id),
      campaign.original_campaign_id ? findCampaign(ctx.db, campaign.original_campaign_id) : Promise.resolve(undefined),
    ]);
    const quorum = campaign.content_hash
      ? evaluateQuorum({ requiredApprovals: campaign.required_approvals, contentHash: campaign.content_hash, authorId: campaign.author_id, editorIds: editors, approvals: records })
      : { approvedBy: [] as string[] };
    const names = new Map(history.map((d) => [d.approver_id, d.approver_name]));
    const asked = campaign.content_hash && campaign.status === 'pending_approval' ? await askedApprovers(ctx.db, campaign.id, campaign.content_hash) : [];
    res.send(
      campaignPage(
        {
          campaign,
          authorName: author?.name ?? 'unknown',
          approvedBy: quorum.approvedBy.map((id) => names.get(id) ?? id),
          asked: asked.map((a) => ({ name: a.name, email: a.email, decided: a.consumed_at !== null || history.some((d) => d.approver_id === a.id && d.content_hash === campaign.content_hash) })),
          decisions: history.map((d) => ({ name: d.approver_name, decision: d.decision, reason: d.reason, at: d.created_at, voided: d.voided_at !== null })),
          counts,
          messageHtml: sample[0] ? renderForFirstRecipient(campaign, sample[0]) : null,
          audit,
          original: original ?? null,
          correction: correction ?? null,
          recallable: ['sending', 'sent', 'halted'].includes(campaign.status) && !correction && counts.sent + counts.unknown + counts.sending > 0 && mayHalt(session.actor, campaign),
          canHalt: mayHalt(session.actor, campaign),
          isAuthor: campaign.author_id === session.actor.id,
          holdWindowSeconds: ctx.config.HOLD_WINDOW_SECONDS,
        },
        await chrome(req),
      ),
    );
  });

  router.get('/campaigns/:id/progress', async (req, res) => {
    const campaign = await loadCampaign(req.params.id!);
    const counts = await countByStatus(ctx.db, campaign.id);
    res.set('Cache-Control', 'no-store').json({ status: campaign.status, counts, ...progressOf(counts, campaign.recipient_count ?? 0) });
  });

  router.post('/campaigns/:id/submit', async (req, res) => {
    const campaign = await submitCampaign(ctx, checkCsrf(req).actor, req.params.id!);
    back(res, `/campaigns/${campaign.id}`, 'submitted');
  });
  router.post('/campaigns/:id/cancel', async (req, res) => {
    const campaign = await cancelCampaign(ctx, checkCsrf(req).actor, req.params.id!);
    back(res, `/campaigns/${campaign.id}`, 'cancelled');
  });
  router.post('/campaigns/:id/halt', async (req, res) => {
    const report = await haltCampaign(ctx, checkCsrf(req).actor, req.params.id!, 'halted from the console');
    back(res, `/campaigns/${report.campaignId}`, 'halted', { inFlight: report.inFlight, stopped: report.stopped });
  });

  router.get('/campaigns/:id/recall', async (req, res) => {
    const campaign = await loadCampaign(req.params.id!);
    const counts = await countByStatus(ctx.db, campaign.id);
    res.send(recallPage({ campaign, sent: counts.sent, unknown: counts.unknown, inFlight: counts.sending, defaultBody: correctionBody(campaign, undefined) }, await chrome(req)));
  });
  router.post('/campaigns/:id/recall', async (req, res) => {
    const session = checkCsrf(req);
    const note = typeof req.body?.note === 'string' && req.body.note.trim() ? req.body.note : undefined;
    const report = await recallCampaign(ctx, session.actor, req.params.id!, { note, subjectStyle: req.body?.subjectStyle === 'sent_in_error' ? 'sent_in_error' : 'reply' });
    back(res, `/campaigns/${report.correction.id}`, 'recalled');
  });

  router.get('/lists', async (req, res) => {
    res.send(listsPage(await listLists(ctx.db), await chrome(req)));
  });
  router.post('/lists', async (req, res) => {
    try {
      const list = await createList(ctx, checkCsrf(req).actor, { name: req.body?.name ?? '' });
      res.redirect(303, `/lists/${list.id}`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403) throw error;
      res.status(error.status).send(listsPage(await listLists(ctx.db), await chrome(req), error.message));
    }
  });

  const renderList = async (req: Request, res: Response, extra: { csv?: string; preview?: Parameters<typeof listPage>[0]['preview'] } = {}, status = 200) => {
    const list = await findList(ctx.db, String(req.params.id));
    if (!list) throw new AppError(404, 'not_found', 'list not found');
    const search = typeof req.query.q === 'string' ? req.query.q : '';
    const offset = Math.max(0, Number.parseInt(String(req.query.offset ?? '0'), 10) || 0);
    const [members, total] = await Promise.all([pageMembers(ctx.db, list.id, { limit: MEMBERS_PAGE, offset, search }), countMembers(ctx.db, list.id)]);
    res.status(status).send(listPage({ list, members, total, search, offset, pageSize: MEMBERS_PAGE, ...extra }, await chrome(req)));
  };
  router.get('/lists/:id', (req, res) => renderList(req, res));
  router.post('/lists/:id/import', async (req, res) => {
    const session = checkCsrf(req);
    const csv = String(req.body?.csv ?? '');
    try {
      const rows = rowsFromCsv(csv);
      if (req.body?.intent === 'import') {
        const report = await importMembers(ctx, session.actor, req.params.id!, rows);
        return back(res, `/lists/${req.params.id}`, 'imported', { imported: report.imported, merged: report.mergedDuplicates });
      }
      const { members } = validateRows(rows, ctx.config.MAX_LIST_SIZE);
      await renderList(req, res, { csv, preview: { rows: members.slice(0, 10), bad: [], total: members.length } });
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403 || error.status === 404) throw error;
      await renderList(req, res, { csv, preview: { rows: [], bad: error.issues.length ? error.issues : [{ field: 'csv', message: error.message }], total: 0 } }, 400);
    }
  });

  router.get('/admin', async (req, res) => {
    res.send(adminPage(await listUsers(ctx.db), await chrome(req)));
  });
  router.post('/admin/halt-all', async (req, res) => {
    await haltAll(ctx, checkCsrf(req).actor, 'kill switch engaged from the console');
    back(res, '/admin', 'kill-engaged');
  });
  router.post('/admin/resume-all', async (req, res) => {
    await resumeAll(ctx, checkCsrf(req).actor);
    back(res, '/admin', 'kill-released');
  });
  const rolesOf = (body: Record<string, unknown> | undefined) => {
    const roles = body?.roles;
    return roles === undefined ? [] : Array.isArray(roles) ? roles : [roles];
  };
  router.post('/admin/users', async (req, res) => {
    const session = checkCsrf(req);
    try {
      await addUserAsAdmin(ctx, session.actor, { email: req.body?.email ?? '', name: req.body?.name ?? '', roles: rolesOf(req.body) });
      back(res, '/admin', 'user-added');
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403) throw error;
      res.status(error.status).send(adminPage(await listUsers(ctx.db), await chrome(req), error.message));
    }
  });
  router.post('/admin/users/:id/roles', async (req, res) => {
    const session = checkCsrf(req);
    try {
      await changeRoles(ctx, session.actor, req.params.id!, { roles: rolesOf(req.body) });
      back(res, '/admin', 'roles-saved');
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403) throw error;
      res.status(error.status).send(adminPage(await listUsers(ctx.db), await chrome(req), error.message));
    }
  });
  return router;
}
