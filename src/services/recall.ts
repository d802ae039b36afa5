import { describeInZone } from '../domain/time-zone.js';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { headerText } from '../domain/addresses.js';
import { correctionSubject, mayBeRecalled } from '../domain/correction.js';
import { correctionApprovals } from '../domain/quorum.js';
import { addEditor, findCampaign, insertCampaign, lockCampaignForHalt, openCorrectionOf } from '../db/campaigns.js';
import { countReached, hasDeliveriesIn } from '../db/deliveries.js';
import type { CampaignRow } from '../db/schema.js';
import { template } from '../mail/templates.js';
import { recordEvent } from './audit.js';
import { assertBodyRenders, assertSendAtAhead, submitWithin } from './campaigns.js';
import type { Actor, AppContext } from './context.js';
import { conflict, forbidden, notFound, parseInput } from './errors.js';
import { queueHaltClearing } from './dispatch.js';
import { haltWithin, mayHalt, type HaltReport } from './halt.js';
import { requestRetractionWithin, retractionOff, startRetractionCheck } from './retraction.js';

export const recallInput = z
  .object({
    note: z.string().trim().max(5000).optional(),
    body: z.string().min(1).max(200_000).optional(),
    subject: headerText(250).pipe(z.string().trim().min(1)).optional(),
    subjectStyle: z.enum(['reply', 'sent_in_error']).default('reply'),
    sendAt: z.iso.datetime({ offset: true }).nullable().optional(),
    /** Submit at once (approval requests go out now), or leave a draft to edit first. */
    submit: z.boolean().default(true),
    /** Also take the original out of recipients' mailboxes, after a dry run and its own approval (where the organisation allows it). */
    retract: z.boolean().default(false),
  })
  .strict();

export interface RecallReport {
  halt: HaltReport | null;
  correction: CampaignRow;
  /** The original's ledger at the recall: who may have it, and who may still get it. */
  original: { sent: number; unknown: number; inFlight: number };
  correctionAudience: number;
  /** The retraction asked for with the recall: its dry run starts at once. */
  retraction: { id: string; items: number } | null;
}

/** Said in the default correction when the recall also retracts: the removal may still be under way as it arrives. */
export const RETRACTION_SENTENCE =
  'We are also removing it from your mailbox (it moves to your Trash); if you still see it, please delete it.';

/** The correction's text; `timeZone` names when the original went (ORG_TIME_ZONE). */
export function correctionBody(original: CampaignRow, note: string | undefined, timeZone: string, retract = false): string {
  const body = template('correction.md').render({
    originalSubject: original.subject,
    originalSentAt: describeInZone(original.started_at ?? original.created_at, timeZone),
    note: note ?? '',
  });
  return retract ? `${body.trimEnd()}\n\n${RETRACTION_SENTENCE}\n` : body;
}

/**
 * Recall: halt what has not gone out, then a correction campaign whose audience is, by rule,
 * everyone the ledger says may have received the original, submitted for approval. All of it in
 * one transaction: a recall happens whole, or changes nothing.
 */
export async function recallCampaign(ctx: AppContext, actor: Actor, originalId: string, body: unknown): Promise<RecallReport> {
  const input = parseInput(recallInput, body ?? {});
  assertSendAtAhead(input.sendAt, ctx.now());
  if (input.body !== undefined) assertBodyRenders(input.body);
  // Every permission first: a refused recall must leave nothing behind, neither a halt nor a draft.
  const original = await findCampaign(ctx.db, originalId);
  if (!original) throw notFound('campaign');
  if (!mayHalt(actor, original)) throw forbidden('only the campaign author, an approver or an admin may recall it');
  if (input.submit && !actor.roles.includes('author')) {
    throw forbidden(
      'submitting the correction for approval needs the author role: recall with submit: false to leave it as a draft for an author',
    );
  }
  const off = input.retract ? retractionOff(ctx) : null;
  if (off) throw conflict('retraction_off', off);
  const now = ctx.now();
  const { correction, halt, requests, counts, retraction } = await ctx.db.transaction().execute(async (trx) => {
    // The halt's lock on the original: claims wait for it, and two recalls happen one after the other.
    const locked = await lockCampaignForHalt(trx, originalId);
    if (!locked) throw notFound('campaign');
    if (!mayBeRecalled(locked.status))
      throw conflict('not_recallable', `a ${locked.status.replace('_', ' ')} campaign has reached nobody: cancel it instead`);
    if (await openCorrectionOf(trx, originalId))
      throw conflict('already_recalled', 'this campaign already has a correction; halt or cancel that one first');
    if (!(await hasDeliveriesIn(trx, originalId, ['sent', 'unknown', 'sending']))) {
      throw conflict('not_recallable', 'none of this campaign has reached anyone or is on its way: halt or cancel it instead');
    }
    const halt =
      locked.status === 'sending'
        ? await haltWithin(trx, locked, actor.email, input.note ? `recalled: ${input.note}` : 'recalled', now)
        : null;
    const created = await insertCampaign(trx, {
      id: randomUUID(),
      kind: 'correction',
      status: 'draft',
      subject: input.subject ?? correctionSubject(original.subject, input.subjectStyle),
      body_markdown: input.body ?? correctionBody(original, input.note, ctx.config.ORG_TIME_ZONE, input.retract),
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
      data: { correctionId: created.id, note: input.note ?? null, halted: halt !== null, retract: input.retract },
      at: now,
    });
    await recordEvent(trx, {
      actor: actor.email,
      action: 'campaign.create',
      campaignId: created.id,
      data: { kind: 'correction', originalId },
      at: now,
    });
    const retraction = input.retract ? await requestRetractionWithin(ctx, trx, actor, locked, created) : null;
    const submitted = input.submit ? await submitWithin(ctx, trx, actor, created.id) : null;
    return {
      correction: submitted?.campaign ?? created,
      halt,
      requests: submitted?.requests,
      counts: await countReached(trx, originalId),
      retraction,
    };
  });
  if (retraction) await startRetractionCheck(ctx, retraction.retraction.id);
  if (halt) await queueHaltClearing(ctx, originalId);
  await requests?.enqueue();
  return {
    halt,
    correction,
    original: { sent: counts.sent, unknown: counts.unknown, inFlight: counts.sending },
    correctionAudience: counts.sent + counts.unknown,
    retraction: retraction ? { id: retraction.retraction.id, items: retraction.items } : null,
  };
}
