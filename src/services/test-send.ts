import type { TestSendReport } from '../domain/api-shapes.js';
import { z } from 'zod';
import { sampleOfAudience, searchSnapshot, sampleRecipients } from '../db/campaigns.js';
import { BULK_HEADERS } from '../mail/compose.js';
import { resolveLink } from './approval-links.js';
import { recordEvent } from './audit.js';
import { getCampaign } from './campaigns.js';
import { requireRole, type Actor, type AppContext } from './context.js';
import { AppError, invalid, notFound, parseInput } from './errors.js';
import { previewFor } from './previews.js';
import { overLimit } from './rate-limits.js';

export const testSendInput = z.object({ recipient: z.string().trim().max(254).optional() }).strict();

/** Enough to check a message on several recipients; not enough to mail anyone through it. */
const TEST_SENDS = { limit: 10, windowSeconds: 600 } as const;

/** Marks a test in its headers, for the reader and for any rule that filters them. */
export const TEST_HEADER = 'X-Countersign-Test';

export type { TestSendReport } from '../domain/api-shapes.js';

/**
 * Sends the signed-in person, and only them, the message exactly as one recipient would get it
 * (the one rendering function), marked as a test. Never a ledger row, never counted.
 */
export async function sendTest(ctx: AppContext, actor: Actor, campaignId: string, body: unknown): Promise<TestSendReport> {
  requireRole(actor, 'author', 'approver', 'admin');
  const { recipient: query = '' } = parseInput(testSendInput, body ?? {});
  const campaign = await getCampaign(ctx, campaignId);
  if (await overLimit(ctx, `test-send:${actor.id}`, TEST_SENDS.limit, TEST_SENDS.windowSeconds)) {
    throw new AppError(
      429,
      'rate_limited',
      `at most ${TEST_SENDS.limit} test sends in ${TEST_SENDS.windowSeconds / 60} minutes; try again later`,
    );
  }
  // A frozen campaign renders for a recipient of its snapshot; a draft for one of its audience as it stands.
  const recipient = campaign.content_hash
    ? ((await searchSnapshot(ctx.db, campaign.id, query.toLowerCase(), 1))[0] ??
      (query ? undefined : (await sampleRecipients(ctx.db, campaign.id, 1))[0]))
    : await sampleOfAudience(ctx.db, campaign.audience, query);
  if (!recipient)
    throw invalid([
      { field: 'recipient', message: query ? `no recipient's address contains "${query}"` : 'the campaign has no recipients yet' },
    ]);
  const preview = previewFor(campaign, recipient);
  await ctx.notifier.send({
    from: preview.from,
    to: actor.email,
    subject: `[Test] ${preview.subject}`,
    html: preview.html,
    text: preview.text,
    headers: { ...BULK_HEADERS, [TEST_HEADER]: `campaign=${campaign.id}; rendered-for=${recipient.email}` },
  });
  await ctx.db.transaction().execute((trx) =>
    recordEvent(trx, {
      actor: actor.email,
      action: 'campaign.test_send',
      campaignId: campaign.id,
      data: { to: actor.email, renderedFor: recipient.email },
      at: ctx.now(),
    }),
  );
  return { sentTo: actor.email, renderedFor: recipient.email };
}

/** From an approval link: only the approver it was sent to, signed in, may send themselves a test. */
export async function sendTestByLink(ctx: AppContext, token: string, body: unknown, signedInAs: Actor): Promise<TestSendReport> {
  const resolved = await resolveLink(ctx.db, token);
  if (!resolved) throw notFound('approval link');
  if (resolved.approver.id !== signedInAs.id)
    throw new AppError(403, 'wrong_approver', `This link was sent to ${resolved.approver.email}; only they can use it.`);
  return sendTest(ctx, signedInAs, resolved.link.campaign_id, body);
}
