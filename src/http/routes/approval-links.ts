import express, { Router, type Request, type Response } from 'express';
import { approvalRecords } from '../../db/approvals.js';
import { editorIds, sampleRecipients } from '../../db/campaigns.js';
import { findUserById } from '../../db/users.js';
import { evaluateQuorum } from '../../domain/quorum.js';
import { composeMessage, renderBodyHtml } from '../../mail/compose.js';
import { decideByLink, LINK_STATE_MESSAGES, viewLink } from '../../services/approvals.js';
import { formatSendTime, logOpening, resolveLink } from '../../services/approval-links.js';
import type { AppContext } from '../../services/context.js';
import { AppError } from '../../services/errors.js';
import { approvalPage, linkMessagePage } from '../views/approval-page.js';

/**
 * The link an approver gets by email. GET and HEAD only show; deciding takes a POST
 * with the typed recipient count, which a mail scanner opening links does not supply.
 */
export function approvalLinkRouter(ctx: AppContext): Router {
  const router = Router();
  router.use(express.urlencoded({ extended: false, limit: '20kb' }));

  const show = async (req: Request, res: Response, error?: { field: string; message: string }) => {
    const token = req.params.token as string;
    res.set({ 'Cache-Control': 'no-store', 'X-Robots-Tag': 'noindex', 'Referrer-Policy': 'no-referrer' });
    const view = await viewLink(ctx, token);
    if (view.state === 'invalid') return res.status(404).send(linkMessagePage('Link not recognised', 'This approval link is not valid.'));
    if (!error) {
      const resolved = await resolveLink(ctx.db, token);
      await logOpening(ctx.db, resolved!.link.id, { method: req.method, ip: req.ip ?? '', userAgent: req.get('user-agent') ?? '' });
    }
    if (view.state !== 'valid') {
      return res.status(410).send(linkMessagePage('This link decides nothing', LINK_STATE_MESSAGES[view.state]));
    }
    const { campaign } = view;
    const [author, sample, records, editors] = await Promise.all([
      findUserById(ctx.db, campaign.author_id),
      sampleRecipients(ctx.db, campaign.id, 10),
      approvalRecords(ctx.db, campaign.id),
      editorIds(ctx.db, campaign.id),
    ]);
    const quorum = evaluateQuorum({ requiredApprovals: campaign.required_approvals, contentHash: campaign.content_hash!, authorId: campaign.author_id, editorIds: editors, approvals: records });
    const approvedBy = await Promise.all(quorum.approvedBy.map(async (id) => (await findUserById(ctx.db, id))?.name ?? id));
    const first = sample[0]!;
    const message = composeMessage(
      { subject: campaign.subject, bodyMarkdown: campaign.body_markdown, fromAddress: campaign.from_address, fromName: campaign.from_name },
      renderBodyHtml(campaign.body_markdown),
      { ...first, messageId: '<preview@countersign>', replyToMessageId: null },
    );
    res.status(error ? 400 : 200).send(
      approvalPage({
        token,
        campaign,
        approverName: view.approver.name,
        authorName: author?.name ?? 'someone',
        approvedBy,
        messageHtml: String(message.html),
        sample,
        sendTime: formatSendTime(campaign),
        expiresAt: view.expiresAt,
        error,
      }),
    );
  };

  router.get('/approve/:token', (req, res) => show(req, res));
  router.post('/approve/:token', async (req, res) => {
    try {
      const campaign = await decideByLink(ctx, req.params.token as string, req.body ?? {});
      const what = campaign.status === 'draft' ? 'rejected; the author has it back as a draft' : 'approved';
      res.send(linkMessagePage('Thank you', `Your decision is recorded: the campaign "${campaign.subject}" is ${what}.`));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (error.status === 400) return show(req, res, error.issues[0] ?? { field: 'form', message: error.message });
      res.status(error.status).send(linkMessagePage('Nothing was decided', error.message));
    }
  });
  return router;
}
