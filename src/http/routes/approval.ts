import express, { Router, type Request, type Response } from 'express';
import { openApprovalLink } from '../../services/approval-page.js';
import { decideByLink } from '../../services/approvals.js';
import { decisionOutcomeOf } from '../../services/campaign-pages.js';
import { sendTestByLink } from '../../services/test-send.js';
import type { AppContext } from '../../services/context.js';
import { AppError } from '../../services/errors.js';
import { approvalPage, decisionRefusal, LINK_STATE_MESSAGES } from '../views/approval.js';
import { messagePage } from '../views/html.js';
import { checkCsrf, chromeFor } from '../web.js';

/**
 * The link an approver gets by email. GET and HEAD only show; deciding takes a POST from
 * the approver's own session, with its CSRF token and the typed recipient count — none of
 * which a mail scanner opening or even submitting the page has.
 */
export function approvalRouter(ctx: AppContext): Router {
  const router = Router();
  router.use('/approve', express.urlencoded({ extended: false, limit: '20kb' }));

  const show = async (req: Request, res: Response, error?: { field: string; message: string }, notice?: string) => {
    const token = req.params.token as string;
    res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex', 'Referrer-Policy': 'no-referrer' });
    const chrome = await chromeFor(ctx, req);
    // A re-render after a refused decision is not a new opening.
    const opening = error ? undefined : { method: req.method, ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '' };
    const recipient = typeof req.query.recipient === 'string' ? req.query.recipient : '';
    const view = await openApprovalLink(ctx, token, opening, recipient);
    if (view.state === 'invalid')
      return res.status(404).send(messagePage('Link not recognised', 'This approval link is not valid.', chrome));
    if (view.state !== 'valid')
      return res.status(410).send(messagePage('This link decides nothing', LINK_STATE_MESSAGES[view.state], chrome));
    const viewer = !req.webSession ? 'signed_out' : req.webSession.actor.id === view.review.approver.id ? 'approver' : 'someone_else';
    res.status(error ? 400 : 200).send(approvalPage({ ...view.review, token, viewer, error }, { ...chrome, notice }));
  };

  router.get('/approve/:token', (req, res) => show(req, res));
  router.post('/approve/:token/test-send', async (req, res) => {
    const session = checkCsrf(req);
    const recipient = typeof req.body?.recipient === 'string' ? req.body.recipient : '';
    try {
      const sent = await sendTestByLink(ctx, req.params.token as string, { recipient }, session.actor);
      await show(req, res, undefined, `A test went to ${sent.sentTo}, as ${sent.renderedFor} gets it.`);
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403 || error.status === 404) throw error;
      await show(req, res, { field: 'test', message: error.issues[0]?.message ?? error.message });
    }
  });
  router.post('/approve/:token', async (req, res) => {
    try {
      const session = checkCsrf(req);
      const campaign = await decideByLink(ctx, req.params.token as string, req.body ?? {}, session.actor);
      const what = await decisionOutcomeOf(ctx, campaign, req.body?.decision === 'reject' ? 'reject' : 'approve');
      res.send(
        messagePage('Thank you', `Your decision is recorded: the campaign "${campaign.subject}" is ${what}.`, await chromeFor(ctx, req)),
      );
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.status === 400) return show(req, res, error.issues[0] ?? { field: 'form', message: error.message });
      res.status(error.status).send(messagePage('Nothing was decided', decisionRefusal(error), await chromeFor(ctx, req)));
    }
  });
  return router;
}
