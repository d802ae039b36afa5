import express, { Router, type Request, type Response } from 'express';
import { approvalRecords } from '../../db/approvals.js';
import { editorIds, lastVersionSeenBy, sampleRecipients } from '../../db/campaigns.js';
import type { CampaignRow } from '../../db/schema.js';
import { findUserById } from '../../db/users.js';
import { diffLines } from '../../domain/line-diff.js';
import { evaluateQuorum } from '../../domain/quorum.js';
import { composeMessage, renderBodyHtml } from '../../mail/compose.js';
import { decideByLink, LINK_STATE_MESSAGES, viewLink } from '../../services/approvals.js';
import { formatSendTime, logOpening, resolveLink } from '../../services/approval-links.js';
import type { AppContext } from '../../services/context.js';
import { AppError } from '../../services/errors.js';
import { approvalPage, linkMessagePage, type VersionChanges } from '../views/approval-page.js';
import { checkCsrf } from '../web.js';
import { chromeFor } from './sign-in.js';

/** Renders the message exactly as its first recipient will get it. */
export function renderForFirstRecipient(campaign: CampaignRow, first: { email: string; name: string; fields: Record<string, string> }): string {
  const message = composeMessage(
    { subject: campaign.subject, bodyMarkdown: campaign.body_markdown, fromAddress: campaign.from_address, fromName: campaign.from_name },
    renderBodyHtml(campaign.body_markdown),
    { ...first, messageId: '<preview@countersign>', replyToMessageId: null },
  );
  return String(message.html);
}

async function changesSince(ctx: AppContext, campaign: CampaignRow, approverId: string): Promise<VersionChanges | null> {
  const seen = await lastVersionSeenBy(ctx.db, campaign.id, approverId, campaign.content_hash!);
  if (!seen) return null;
  const differs = <T>(before: T, after: T) => (before === after ? undefined : { before, after });
  const when = (d: Date | null) => (d ? d.toUTCString() : 'as soon as approved');
  return {
    submittedAt: seen.submitted_at,
    subject: differs(seen.subject, campaign.subject),
    recipientCount: differs(seen.recipient_count, campaign.recipient_count ?? 0),
    sendAt: differs(when(seen.send_at), when(campaign.send_at)),
    from: differs(`${seen.from_name} <${seen.from_address}>`, `${campaign.from_name} <${campaign.from_address}>`),
    body: seen.body_markdown === campaign.body_markdown ? undefined : diffLines(seen.body_markdown, campaign.body_markdown),
  };
}

/**
 * The link an approver gets by email. GET and HEAD only show; deciding takes a POST from
 * the approver's own session, with its CSRF token and the typed recipient count — none of
 * which a mail scanner opening or even submitting the page has.
 */
export function approvalLinkRouter(ctx: AppContext): Router {
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '20kb' }));

  const show = async (req: Request, res: Response, error?: { field: string; message: string }) => {
    const token = req.params.token as string;
    res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex', 'Referrer-Policy': 'no-referrer' });
    const chrome = await chromeFor(ctx, req);
    const view = await viewLink(ctx, token);
    if (view.state === 'invalid') return res.status(404).send(linkMessagePage('Link not recognised', 'This approval link is not valid.', chrome));
    if (!error) {
      const resolved = await resolveLink(ctx.db, token);
      await logOpening(ctx.db, resolved!.link.id, { method: req.method, ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '' });
    }
    if (view.state !== 'valid') {
      return res.status(410).send(linkMessagePage('This link decides nothing', LINK_STATE_MESSAGES[view.state], chrome));
    }
    const { campaign } = view;
    const [author, sample, records, editors, changes] = await Promise.all([
      findUserById(ctx.db, campaign.author_id),
      sampleRecipients(ctx.db, campaign.id, 10),
      approvalRecords(ctx.db, campaign.id),
      editorIds(ctx.db, campaign.id),
      changesSince(ctx, campaign, view.approver.id),
    ]);
    const quorum = evaluateQuorum({ requiredApprovals: campaign.required_approvals, contentHash: campaign.content_hash!, authorId: campaign.author_id, editorIds: editors, approvals: records });
    const approvedBy = await Promise.all(quorum.approvedBy.map(async (id) => (await findUserById(ctx.db, id))?.name ?? id));
    const viewer = !req.webSession ? 'signed_out' : req.webSession.actor.id === view.approver.id ? 'approver' : 'someone_else';
    res.status(error ? 400 : 200).send(
      approvalPage(
        {
          token,
          campaign,
          approver: view.approver,
          authorName: author?.name ?? 'someone',
          approvedBy,
          messageHtml: renderForFirstRecipient(campaign, sample[0]!),
          sample,
          sendTime: formatSendTime(campaign),
          expiresAt: view.expiresAt,
          changes,
          viewer,
          error,
        },
        chrome,
      ),
    );
  };

  router.get('/approve/:token', (req, res) => show(req, res));
  router.post('/approve/:token', async (req, res) => {
    try {
      const session = checkCsrf(req);
      const campaign = await decideByLink(ctx, req.params.token as string, req.body ?? {}, session.actor);
      const what = campaign.status === 'draft' ? 'rejected; the author has it back as a draft' : 'approved';
      res.send(linkMessagePage('Thank you', `Your decision is recorded: the campaign "${campaign.subject}" is ${what}.`, await chromeFor(ctx, req)));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.status === 400) return show(req, res, error.issues[0] ?? { field: 'form', message: error.message });
      res.status(error.status).send(linkMessagePage('Nothing was decided', error.message, await chromeFor(ctx, req)));
    }
  });
  return router;
}
