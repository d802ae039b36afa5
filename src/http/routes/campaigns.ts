import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { parsePastedRecipients } from '../../domain/pasted-recipients.js';
import { isTimeZone, utcToZonedLocal, zonedLocalToUtc } from '../../domain/time-zone.js';
import { campaignListModel, campaignLiveModel, campaignPageModel, recallPageModel } from '../../services/campaign-pages.js';
import { cancelCampaign, createCampaign, editCampaign, getCampaign, submitCampaign } from '../../services/campaigns.js';
import type { AppContext } from '../../services/context.js';
import { AppError, type FieldIssue } from '../../services/errors.js';
import { continueCampaign } from '../../services/first-wave.js';
import { haltCampaign } from '../../services/halt.js';
import { deliveriesPageModel, everyDelivery, ledgerExport } from '../../services/ledger.js';
import { allLists } from '../../services/lists.js';
import { previewDraft } from '../../services/previews.js';
import { recallCampaign } from '../../services/recall.js';
import { approveRetraction, haltRetraction, retractionReport } from '../../services/retraction.js';
import { submitReview, type SubmitReview } from '../../services/submit-review.js';
import { sendTest } from '../../services/test-send.js';
import { streamLedgerCsv } from '../ledger-csv.js';
import { consoleChrome, redirectWithNotice } from '../notices.js';
import { campaignFragments, campaignListPage, campaignPage, recallPage } from '../views/campaigns.js';
import { composePage, draftWarnings, fieldNames, type ComposeModel } from '../views/compose.js';
import { deliveriesPage } from '../views/deliveries.js';
import { submitReviewPage } from '../views/submit.js';
import { checkCsrf, requireSignedIn, signedIn } from '../web.js';

const TIME_ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')];

const composeForm = z.object({
  subject: z.string().default(''),
  body: z.string().default(''),
  listIds: z
    .union([z.string(), z.array(z.string())])
    .default([])
    .transform((v) => (Array.isArray(v) ? v : [v])),
  recipients: z.string().default(''),
  sendAtLocal: z.string().default(''),
  timeZone: z.string().default('UTC'),
});
type ComposeValues = z.infer<typeof composeForm>;

interface CampaignDraft {
  subject: string;
  body: string;
  audience: { listIds: string[]; recipients: ReturnType<typeof parsePastedRecipients>['recipients'] };
  sendAt: string | null;
}

/** The form's fields as the API's campaign input, plus errors only the form can have. */
function campaignInputFrom(values: ComposeValues): { input: CampaignDraft; errors: Record<string, string> } {
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
  return {
    input: { subject: values.subject, body: values.body, audience: { listIds: values.listIds, recipients: pasted.recipients }, sendAt },
    errors,
  };
}

/** API field paths onto the form's fields, so each error shows beside its input. */
function formErrors(issues: FieldIssue[]): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const issue of issues) {
    const field = issue.field.startsWith('audience.recipients')
      ? 'recipients'
      : issue.field.startsWith('audience.listIds') || issue.field === 'audience'
        ? 'lists'
        : issue.field;
    const key = ['subject', 'body', 'recipients', 'lists', 'sendAt'].includes(field) ? field : 'form';
    errors[key] = errors[key] ? `${errors[key]}; ${issue.message}` : issue.message;
  }
  return errors;
}

const emptyValues: ComposeValues = { subject: '', body: '', listIds: [], recipients: '', sendAtLocal: '', timeZone: 'UTC' };

/** The campaign pages: list, compose and edit, the campaign itself, and its actions. */
export function campaignsRouter(ctx: AppContext): Router {
  const router = Router();
  router.use('/campaigns', express.urlencoded({ extended: false, limit: '10mb' }), requireSignedIn);

  router.get('/', requireSignedIn, async (req, res) => {
    res.send(campaignListPage(await campaignListModel(ctx, req.query), await consoleChrome(ctx, req)));
  });

  const renderCompose = async (req: Request, res: Response, model: Omit<ComposeModel, 'lists' | 'timeZones'>, status = 200) => {
    res.status(status).send(composePage({ ...model, lists: await allLists(ctx), timeZones: TIME_ZONES }, await consoleChrome(ctx, req)));
  };

  router.get('/campaigns/new', (req, res) =>
    renderCompose(req, res, { action: '/campaigns', values: emptyValues, errors: {}, editing: false }),
  );

  router.post('/campaigns/preview', async (req, res) => {
    checkCsrf(req);
    const { input, errors } = campaignInputFrom(composeForm.parse(req.body ?? {}));
    const preview = await previewDraft(ctx, input);
    res.json({ ...preview, errors, fieldsHtml: fieldNames(preview).value, warningsHtml: draftWarnings(preview).value });
  });

  /** Save or preview, for a new campaign or an edit: one flow, errors shown beside their fields. */
  const handleCompose = async (req: Request, res: Response, campaignId: string | null) => {
    const session = checkCsrf(req);
    const values = composeForm.parse(req.body ?? {});
    const { input, errors } = campaignInputFrom(values);
    const action = campaignId ? `/campaigns/${campaignId}/edit` : '/campaigns';
    const model = {
      action,
      values,
      editing: campaignId !== null,
      testSendAction: campaignId ? `/campaigns/${campaignId}/test-send` : undefined,
    };
    if (req.body?.intent === 'preview' || Object.keys(errors).length) {
      return renderCompose(req, res, { ...model, errors, preview: await previewDraft(ctx, input) }, Object.keys(errors).length ? 400 : 200);
    }
    try {
      const campaign = campaignId
        ? await editCampaign(ctx, session.actor, campaignId, input)
        : await createCampaign(ctx, session.actor, input);
      if (req.body?.intent === 'review') res.redirect(303, `/campaigns/${campaign.id}/submit`);
      else redirectWithNotice(res, `/campaigns/${campaign.id}`, 'saved');
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      await renderCompose(req, res, { ...model, errors: formErrors(error.issues), preview: await previewDraft(ctx, input) }, 400);
    }
  };
  router.post('/campaigns', (req, res) => handleCompose(req, res, null));

  /** The edit page of a saved campaign, with `errors` beside their fields (a refused submit lands here). */
  const renderEdit = async (
    req: Request,
    res: Response,
    campaign: SubmitReview['campaign'],
    errors: Record<string, string> = {},
    status = 200,
  ) => {
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
    await renderCompose(
      req,
      res,
      {
        action: `/campaigns/${campaign.id}/edit`,
        values,
        errors,
        editing: true,
        testSendAction: `/campaigns/${campaign.id}/test-send`,
        preview: await previewDraft(ctx, input),
      },
      status,
    );
  };
  router.get('/campaigns/:id/edit', async (req, res) => renderEdit(req, res, await getCampaign(ctx, req.params.id!)));
  router.post('/campaigns/:id/edit', (req, res) => handleCompose(req, res, req.params.id!));
  router.post('/campaigns/:id/test-send', async (req, res) => {
    const session = checkCsrf(req);
    const recipient = typeof req.body?.recipient === 'string' ? req.body.recipient : '';
    try {
      const sent = await sendTest(ctx, session.actor, req.params.id!, { recipient });
      redirectWithNotice(res, `/campaigns/${req.params.id!}/edit`, 'test-sent', { sentTo: sent.sentTo, renderedFor: sent.renderedFor });
    } catch (error) {
      if (!(error instanceof AppError) || (error.status !== 400 && error.status !== 429)) throw error;
      await renderEdit(req, res, await getCampaign(ctx, req.params.id!), { test: error.issues[0]?.message ?? error.message }, error.status);
    }
  });

  router.get('/campaigns/:id', async (req, res) => {
    res.send(campaignPage(await campaignPageModel(ctx, req.params.id!, signedIn(req).actor), await consoleChrome(ctx, req)));
  });

  // What an open campaign page polls: its changing parts, rendered here as on the page, so it follows the campaign without a reload.
  router.get('/campaigns/:id/live', async (req, res) => {
    const model = await campaignLiveModel(ctx, req.params.id!, signedIn(req).actor);
    res
      .set('Cache-Control', 'no-store')
      .json({ status: model.campaign.status, pollMs: model.pollMs, fragments: campaignFragments(model, await consoleChrome(ctx, req)) });
  });

  router.get('/campaigns/:id/deliveries', async (req, res) => {
    res.send(deliveriesPage(await deliveriesPageModel(ctx, req.params.id!, req.query), await consoleChrome(ctx, req)));
  });
  // The same CSV as the API's, with the browser's session: a person downloads what they see.
  router.get('/campaigns/:id/deliveries.csv', async (req, res) => {
    const { campaign, filter } = await ledgerExport(ctx, req.params.id!, req.query);
    await streamLedgerCsv(res, campaign.id, everyDelivery(ctx, campaign.id, filter));
  });

  router.get('/campaigns/:id/submit', async (req, res) => {
    res.send(submitReviewPage(await submitReview(ctx, req.params.id!), await consoleChrome(ctx, req)));
  });
  /**
   * Submits what the confirmation showed. A refusal keeps the author where it can be fixed: beside
   * the fields on the edit page, or on the confirmation with its reason and a way back.
   */
  router.post('/campaigns/:id/submit', async (req, res) => {
    const session = checkCsrf(req);
    const id = req.params.id!;
    const review = await submitReview(ctx, id);
    const expected = req.body?.expectedCount;
    if (!review.resuming && typeof expected === 'string' && expected !== String(review.recipients)) {
      const changed = `the audience changed since you looked: it is now ${review.recipients.toLocaleString('en-US')} recipients. Check it and submit again.`;
      return res.status(409).send(submitReviewPage(review, await consoleChrome(ctx, req), changed));
    }
    try {
      const campaign = await submitCampaign(ctx, session.actor, id);
      redirectWithNotice(res, `/campaigns/${campaign.id}`, 'submitted');
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 401 || error.status === 404) throw error;
      if (error.status === 400 && review.campaign.status === 'draft') {
        const errors = formErrors(error.issues);
        return renderEdit(
          req,
          res,
          review.campaign,
          { ...errors, form: ['Not submitted: fix what is marked below.', errors.form].filter(Boolean).join(' ') },
          400,
        );
      }
      res.status(error.status).send(submitReviewPage(review, await consoleChrome(ctx, req), error.message));
    }
  });
  router.post('/campaigns/:id/cancel', async (req, res) => {
    const campaign = await cancelCampaign(ctx, checkCsrf(req).actor, req.params.id!);
    redirectWithNotice(res, `/campaigns/${campaign.id}`, 'cancelled');
  });
  router.post('/campaigns/:id/halt', async (req, res) => {
    const report = await haltCampaign(ctx, checkCsrf(req).actor, req.params.id!, 'halted from the console');
    redirectWithNotice(res, `/campaigns/${report.campaignId}`, 'halted', { inFlight: report.inFlight, stopped: report.stopped });
  });

  router.post('/campaigns/:id/continue', async (req, res) => {
    await continueCampaign(ctx, req.params.id!, checkCsrf(req).actor);
    redirectWithNotice(res, `/campaigns/${req.params.id!}`, 'continued');
  });

  router.get('/campaigns/:id/recall', async (req, res) => {
    res.send(recallPage(await recallPageModel(ctx, req.params.id!), await consoleChrome(ctx, req)));
  });
  router.post('/campaigns/:id/recall', async (req, res) => {
    const session = checkCsrf(req);
    const note = typeof req.body?.note === 'string' && req.body.note.trim() ? req.body.note : undefined;
    const subjectStyle = req.body?.subjectStyle === 'sent_in_error' ? 'sent_in_error' : 'reply';
    // Only an author may submit the correction; anyone else who may recall leaves it drafted for an author.
    const submit = session.actor.roles.includes('author');
    const retract = req.body?.retract === 'yes';
    const report = await recallCampaign(ctx, session.actor, req.params.id!, { note, subjectStyle, submit, retract });
    redirectWithNotice(res, `/campaigns/${report.correction.id}`, submit ? 'recalled' : 'recall-drafted');
  });
  router.get('/campaigns/:id/retraction/progress', async (req, res) => {
    const report = await retractionReport(ctx, req.params.id!);
    res.set('Cache-Control', 'no-store').json(report ? { status: report.status, dryRun: report.dryRun, outcomes: report.outcomes } : null);
  });
  router.post('/campaigns/:id/retraction/approve', async (req, res) => {
    const report = await approveRetraction(ctx, checkCsrf(req).actor, req.params.id!);
    redirectWithNotice(
      res,
      `/campaigns/${req.params.id!}`,
      report.status === 'pending_approval' ? 'retraction-approved' : 'retraction-started',
    );
  });
  router.post('/campaigns/:id/retraction/halt', async (req, res) => {
    const report = await haltRetraction(ctx, checkCsrf(req).actor, req.params.id!, { reason: 'halted from the console' });
    redirectWithNotice(res, `/campaigns/${req.params.id!}`, 'retraction-halted', { inFlight: report.inFlight, stopped: report.stopped });
  });
  return router;
}
