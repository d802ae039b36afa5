import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { headerText } from '../domain/addresses.js';
import { correctionSubject, mayBeRecalled } from '../domain/correction.js';
import { correctionApprovals } from '../domain/quorum.js';
import { addEditor, findCampaign, insertCampaign, lockCampaign, openCorrectionOf } from '../db/campaigns.js';
import { countByStatus } from '../db/deliveries.js';
import type { CampaignRow } from '../db/schema.js';
import { template } from '../mail/templates.js';
import { recordEvent } from './audit.js';
import { submitCampaign } from './campaigns.js';
import type { Actor, AppContext } from './context.js';
import { conflict, forbidden, notFound, parseInput } from './errors.js';
import { haltCampaign, mayHalt, type HaltReport } from './halt.js';

export const recallInput = z
  .object({
    note: z.string().trim().max(5000).optional(),
    body: z.string().min(1).max(200_000).optional(),
    subject: headerText(250).pipe(z.string().trim().min(1)).optional(),
    subjectStyle: z.enum(['reply', 'sent_in_error']).default('reply'),
    sendAt: z.iso.datetime({ offset: true }).nullable().optional(),
    /** Submit at once (approval requests go out now), or leave a draft to edit first. */
    submit: z.boolean().default(true),
  })
  .strict();

export interface RecallReport {
  halt: HaltReport | null;
  correction: CampaignRow;
  /** The original's ledger at the recall: who may have it, and who may still get it. */
  original: { sent: number; unknown: number; inFlight: number };
  correctionAudience: number;
}

export function correctionBody(original: CampaignRow, note: string | undefined): string {
  return template('correction.md').render({
    originalSubject: original.subject,
    originalSentAt: (original.started_at ?? original.created_at).toUTCString(),
    note: note ?? '',
  });
}

/**
 * Recall: halt what has not gone out, then a correction campaign whose audience is,
 * by rule, everyone the ledger says may have received the original.
 */
export async function recallCampaign(ctx: AppContext, actor: Actor, originalId: string, body: unknown): Promise<RecallReport> {
  const input = parseInput(recallInput, body ?? {});
  const original = await findCampaign(ctx.db, originalId);
  if (!original) throw notFound('campaign');
  if (!mayHalt(actor, original)) throw forbidden('only the campaign author, an approver or an admin may recall it');
  if (!mayBeRecalled(original.status)) throw conflict('not_recallable', `a ${original.status.replace('_', ' ')} campaign has reached nobody: cancel it instead`);
  if (await openCorrectionOf(ctx.db, originalId)) throw conflict('already_recalled', 'this campaign already has a correction; halt or cancel that one first');

  const halt = original.status === 'sending' ? await haltCampaign(ctx, actor, originalId, input.note ? `recalled: ${input.note}` : 'recalled') : null;
  const now = ctx.now();
  const correction = await ctx.db.transaction().execute(async (trx) => {
    // The lock on the original serialises two recalls; the unique index is the backstop.
    await lockCampaign(trx, originalId);
    if (await openCorrectionOf(trx, originalId)) throw conflict('already_recalled', 'this campaign already has a correction');
    const created = await insertCampaign(trx, {
      id: randomUUID(),
      kind: 'correction',
      status: 'draft',
      subject: input.subject ?? correctionSubject(original.subject, input.subjectStyle),
      body_markdown: input.body ?? correctionBody(original, input.note),
      from_address: original.from_address,
      from_name: original.from_name,
      audience: JSON.stringify({ listIds: [], recipients: [] }),
      send_at: input.sendAt ? new Date(input.sendAt) : null,
      required_approvals: correctionApprovals(ctx.config.REQUIRED_APPROVALS, ctx.config.CORRECTION_REQUIRED_APPROVALS),
      author_id: actor.id,
      original_campaign_id: originalId,
      updated_at: now,
    });
    await addEditor(trx, created.id, actor.id);
    await recordEvent(trx, {
      actor: actor.email,
      action: 'campaign.recall',
      campaignId: originalId,
      data: { correctionId: created.id, note: input.note ?? null, halted: halt !== null },
      at: now,
    });
    await recordEvent(trx, { actor: actor.email, action: 'campaign.create', campaignId: created.id, data: { kind: 'correction', originalId }, at: now });
    return created;
  });
  const counts = await countByStatus(ctx.db, originalId);
  const submitted = input.submit ? await submitCampaign(ctx, actor, correction.id) : correction;
  return {
    halt,
    correction: submitted,
    original: { sent: counts.sent, unknown: counts.unknown, inFlight: counts.sending },
    correctionAudience: counts.sent + counts.unknown,
  };
}
