import { randomBytes, randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import {
  countOf,
  DRY_RUN_OUTCOMES,
  dryRunOutcome,
  itemOutcome,
  RETRACTION_ITEM_STATUSES,
  retractionQuorum,
  type Counts,
  type DryRunOutcome,
  type RetractionItemStatus,
  type RetractionStatus,
} from '../domain/retraction.js';
import {
  addRetractionApproval,
  claimItem,
  countDryRun,
  countItemStatuses,
  findRetraction,
  findRetractionOf,
  finishItem,
  haltItems,
  hasUncheckedItems,
  insertRetraction,
  lockRetractionOf,
  pageItems,
  recordDryRun,
  retractionApprovals,
  retractionsInStatus,
  seedRetractionItems,
  touchItem,
  uncheckedItems,
  updateRetractionIf,
  type RetractionTarget,
} from '../db/retractions.js';
import type { CampaignRow, DB, RetractionRow } from '../db/schema.js';
import { usersWithRole } from '../db/users.js';
import { MailboxError, type MailboxBackend } from '../mail/mailbox.js';
import { retractionHaltReport, retractionItemsView, retractionView } from '../domain/api-shapes.js';
import { GlobalRateLimiter } from '../queue/rate-limit.js';
import { recordEvent } from './audit.js';
import { requireRole, SYSTEM_ACTOR, type Actor, type AppContext } from './context.js';
import { ensureRetractionJob, queuePlainNotices, queueRetraction } from './dispatch.js';
import { AppError, conflict, forbidden, notFound, parseInput } from './errors.js';

/**
 * Retraction, the optional part of a recall that moves the original to Trash in its recipients'
 * mailboxes. Its targets are the original's ledger rows that may have reached someone, each with
 * the Message-ID recorded for that recipient, and nothing else. A dry run looks first and touches
 * nothing; approvers see what it found; only then does a run act, one claimed row at a time.
 */

/** Deliveries of the original whose message may sit in a mailbox (`sending` ones may still land). */
const RETRACTABLE_DELIVERIES = ['sent', 'unknown', 'sending'] as const;
/** A row a worker took and stopped refreshing (it died) is taken over after this. */
const STALE_ITEM_SECONDS = 60;
const CHECK_BATCH = 200;

/** Why a recall cannot retract here, or null when it can. */
export function retractionOff(ctx: Pick<AppContext, 'policy' | 'mailbox'>): string | null {
  if (!ctx.policy.retraction?.allowed) return 'retraction is off: the policy file must say `retraction: { allowed: true }`';
  if (!ctx.mailbox) return 'retraction is off: no mailbox backend is configured (RETRACT_IMAP_URL)';
  return null;
}

/** Inside the recall's transaction: the retraction and its ledger, copied from the original's. */
export async function requestRetractionWithin(
  ctx: AppContext,
  trx: Transaction<DB>,
  actor: Actor,
  original: CampaignRow,
  correction: CampaignRow,
): Promise<{ retraction: RetractionRow; items: number }> {
  const now = ctx.now();
  const retraction = await insertRetraction(trx, {
    id: randomUUID(),
    campaign_id: original.id,
    correction_id: correction.id,
    status: 'checking',
    backend: ctx.mailbox!.name,
    requested_by: actor.id,
    required_approvals: correction.required_approvals,
    created_at: now,
  });
  const items = await seedRetractionItems(trx, retraction.id, original.id, RETRACTABLE_DELIVERIES);
  await recordEvent(trx, {
    actor: actor.email,
    action: 'retraction.request',
    campaignId: original.id,
    data: { retractionId: retraction.id, correctionId: correction.id, items, backend: retraction.backend },
    at: now,
  });
  return { retraction, items };
}

export async function startRetractionCheck(ctx: AppContext, retractionId: string): Promise<void> {
  await queueRetraction(ctx, { retractionId, phase: 'check' });
}

/** Rows the backend cannot or must not touch, with why; null when it may look. */
function refusal(mailbox: MailboxBackend, item: RetractionTarget): string | null {
  if (!item.message_id || item.ledger_message_id !== item.message_id) return 'the ledger holds no Message-ID for this recipient';
  if (!mailbox.serves(item.email)) return `${item.email.slice(item.email.lastIndexOf('@') + 1)} is not a domain ${mailbox.name} serves`;
  return null;
}

function backendOf(ctx: AppContext): MailboxBackend {
  if (!ctx.mailbox) throw new Error('no mailbox backend is configured (RETRACT_IMAP_URL): the retraction waits until one is');
  return ctx.mailbox;
}

function limiter(ctx: AppContext): GlobalRateLimiter {
  return new GlobalRateLimiter(ctx.queues.redis, `${ctx.queues.prefix}:retract-rate`, ctx.config.RETRACT_RATE_PER_SECOND);
}

/** One mailbox operation under the global rate, retried on temporary errors with backoff. */
async function withRetries<T>(
  ctx: AppContext,
  rate: GlobalRateLimiter,
  operation: () => Promise<T>,
  beforeRetry: () => Promise<void>,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    await rate.take(1);
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof MailboxError) || !error.temporary || attempt >= ctx.config.RETRACT_MAX_ATTEMPTS) throw error;
      await beforeRetry();
      await new Promise((resolve) => setTimeout(resolve, Math.min(10_000, 250 * 2 ** attempt)));
    }
  }
}

/** Runs `worker` on RETRACT_CONCURRENCY slots until each says there is nothing left. */
async function inSlots(ctx: AppContext, worker: () => Promise<boolean>): Promise<void> {
  const slot = async () => {
    while (await worker());
  };
  await Promise.all(Array.from({ length: ctx.config.RETRACT_CONCURRENCY }, slot));
}

/** The dry run: looks for every recipient's message and records what a run would do. Touches nothing. */
export async function checkRetraction(ctx: AppContext, retractionId: string): Promise<void> {
  const mailbox = backendOf(ctx);
  const rate = limiter(ctx);
  for (;;) {
    const batch = await uncheckedItems(ctx.db, retractionId, CHECK_BATCH);
    if (batch.length === 0) break;
    await inSlots(ctx, async () => {
      const item = batch.shift();
      if (!item) return false;
      const [outcome, response] = await lookFor(ctx, rate, mailbox, item);
      await recordDryRun(ctx.db, retractionId, item.seq, outcome, response);
      return true;
    });
  }
  if (await hasUncheckedItems(ctx.db, retractionId)) return;
  const now = ctx.now();
  const checked = await ctx.db.transaction().execute(async (trx) => {
    const moved = await updateRetractionIf(trx, retractionId, ['checking'], { status: 'pending_approval', checked_at: now });
    if (!moved) return null;
    const dryRun = countOf(DRY_RUN_OUTCOMES, await countDryRun(trx, retractionId));
    await recordEvent(trx, {
      actor: SYSTEM_ACTOR,
      action: 'retraction.checked',
      campaignId: moved.campaign_id,
      data: { retractionId, dryRun },
      at: now,
    });
    return { retraction: moved, dryRun };
  });
  if (checked) await askForApproval(ctx, checked.retraction, checked.dryRun);
}

async function lookFor(
  ctx: AppContext,
  rate: GlobalRateLimiter,
  mailbox: MailboxBackend,
  item: RetractionTarget,
): Promise<[DryRunOutcome, string]> {
  const refused = refusal(mailbox, item);
  if (refused) return ['not_retractable', refused];
  try {
    const { finding, response } = await withRetries(
      ctx,
      rate,
      () => mailbox.retract(item.email, item.message_id!, { dryRun: true }),
      async () => {},
    );
    return [dryRunOutcome(finding), response];
  } catch (error) {
    return ['failed', (error as Error).message];
  }
}

async function askForApproval(ctx: AppContext, retraction: RetractionRow, dryRun: Counts<DryRunOutcome>): Promise<void> {
  const people = [...(await usersWithRole(ctx.db, 'approver')), ...(await usersWithRole(ctx.db, 'admin'))].filter(
    (u) => u.id !== retraction.requested_by,
  );
  const counts = DRY_RUN_OUTCOMES.map((o) => `  ${o.replace('_', ' ')}: ${dryRun[o]}`).join('\n');
  await queuePlainNotices(
    ctx,
    people.map((u) => u.email),
    'Retraction awaiting approval',
    `A recall asks to remove the original message from recipients' mailboxes (moved to Trash).\n\nThe dry run found:\n${counts}\n\n` +
      `It needs ${retraction.required_approvals} approver(s) and an admin: ${ctx.config.PUBLIC_URL}/campaigns/${retraction.campaign_id}`,
  );
}

/** The run, after approval: takes one row at a time, acts in that mailbox, records the answer. */
export async function runRetraction(ctx: AppContext, retractionId: string): Promise<void> {
  const mailbox = backendOf(ctx);
  const rate = limiter(ctx);
  const token = randomBytes(8).toString('hex');
  await inSlots(ctx, async () => {
    const item = await claimItem(ctx.db, retractionId, token, STALE_ITEM_SECONDS);
    if (!item) return false;
    const [status, response] = await act(ctx, rate, mailbox, item, () => touchItem(ctx.db, retractionId, item.seq, token));
    await finishItem(ctx.db, retractionId, item.seq, token, status, response);
    return true;
  });
  await finishIfComplete(ctx, retractionId);
}

async function act(
  ctx: AppContext,
  rate: GlobalRateLimiter,
  mailbox: MailboxBackend,
  item: RetractionTarget,
  keepClaim: () => Promise<void>,
): Promise<[RetractionItemStatus, string]> {
  const refused = refusal(mailbox, item);
  if (refused) return ['not_retractable', refused];
  // A connection lost after the server moved it but before it said so: the next try finds it in Trash.
  let retried = false;
  const beforeRetry = async () => {
    retried = true;
    await keepClaim();
  };
  try {
    const { finding, response } = await withRetries(
      ctx,
      rate,
      () => mailbox.retract(item.email, item.message_id!, { dryRun: false }),
      beforeRetry,
    );
    const { status, note } = itemOutcome(finding, item.resumed || retried);
    return [status, [response, note].filter(Boolean).join('; ')];
  } catch (error) {
    return ['failed', (error as Error).message];
  }
}

async function finishIfComplete(ctx: AppContext, retractionId: string): Promise<void> {
  const now = ctx.now();
  await ctx.db.transaction().execute(async (trx) => {
    const outcomes = countOf(RETRACTION_ITEM_STATUSES, await countItemStatuses(trx, retractionId));
    if (outcomes.pending + outcomes.working > 0) return;
    const done = await updateRetractionIf(trx, retractionId, ['running'], { status: 'done', finished_at: now });
    if (done)
      await recordEvent(trx, {
        actor: SYSTEM_ACTOR,
        action: 'retraction.finish',
        campaignId: done.campaign_id,
        data: { retractionId, outcomes },
        at: now,
      });
  });
}

/**
 * An approver's or admin's yes, never the requester's. The retraction starts when the
 * correction's number of approvers and an admin have said yes.
 */
export async function approveRetraction(ctx: AppContext, actor: Actor, campaignId: string): Promise<RetractionReport> {
  requireRole(actor, 'approver', 'admin');
  const now = ctx.now();
  const started = await ctx.db.transaction().execute(async (trx) => {
    const retraction = await lockRetractionOf(trx, campaignId);
    if (!retraction) throw notFound('retraction');
    if (retraction.status !== 'pending_approval') {
      throw conflict(
        'not_pending',
        retraction.status === 'checking'
          ? 'the dry run is still under way: approve once it has shown what it would remove'
          : `the retraction is ${retraction.status.replace('_', ' ')}`,
      );
    }
    if (retraction.requested_by === actor.id) throw new AppError(403, 'self_approval', 'whoever asked for a retraction cannot approve it');
    if (!(await addRetractionApproval(trx, retraction.id, actor.id, now)))
      throw conflict('duplicate', 'you have already approved this retraction');
    await recordEvent(trx, {
      actor: actor.email,
      action: 'retraction.approve',
      campaignId,
      data: { retractionId: retraction.id },
      at: now,
    });
    const quorum = retractionQuorum(retraction.required_approvals, await retractionApprovals(trx, retraction.id), retraction.requested_by);
    if (!quorum.met) return null;
    const running = await updateRetractionIf(trx, retraction.id, ['pending_approval'], { status: 'running', started_at: now });
    await recordEvent(trx, { actor: SYSTEM_ACTOR, action: 'retraction.start', campaignId, data: { retractionId: retraction.id }, at: now });
    return running!;
  });
  if (started) await queueRetraction(ctx, { retractionId: started.id, phase: 'run' });
  return (await retractionReport(ctx, campaignId))!;
}

export const haltRetractionInput = z.object({ reason: z.string().trim().min(1).max(500).optional() }).strict();

/**
 * Stops a retraction before it touches another mailbox: rows not yet taken become `halted` in
 * the same transaction; the few being worked on (at most RETRACT_CONCURRENCY) finish and say so.
 */
export async function haltRetraction(
  ctx: AppContext,
  actor: Actor,
  campaignId: string,
  body: unknown,
): Promise<z.infer<typeof retractionHaltReport>> {
  const { reason = 'halted by hand' } = parseInput(haltRetractionInput, body ?? {});
  const now = ctx.now();
  return ctx.db.transaction().execute(async (trx) => {
    const retraction = await lockRetractionOf(trx, campaignId);
    if (!retraction) throw notFound('retraction');
    if (retraction.requested_by !== actor.id && !actor.roles.some((r) => r === 'approver' || r === 'admin')) {
      throw forbidden('only whoever asked for the retraction, an approver or an admin may halt it');
    }
    const report = await haltRetractionWithin(trx, retraction, actor.email, reason, now);
    if (!report) throw conflict('illegal_transition', `the retraction is already ${retraction.status}`);
    return report;
  });
}

const HALTABLE: readonly RetractionStatus[] = ['checking', 'pending_approval', 'running'];

/** Under the retraction's row lock; null when it had already ended. */
async function haltRetractionWithin(trx: Transaction<DB>, retraction: RetractionRow, actor: string, reason: string, now: Date) {
  const halted = await updateRetractionIf(trx, retraction.id, HALTABLE, { status: 'halted', halted_at: now, halt_reason: reason });
  if (!halted) return null;
  const { stopped, inFlight } = await haltItems(trx, retraction.id);
  await recordEvent(trx, {
    actor,
    action: 'retraction.halt',
    campaignId: retraction.campaign_id,
    data: { retractionId: retraction.id, reason, stopped, inFlight, previousStatus: retraction.status },
    at: now,
  });
  return { status: 'halted' as const, inFlight, stopped };
}

/** The kill switch, inside its transaction: every retraction not yet ended stops too. */
export async function haltAllRetractionsWithin(trx: Transaction<DB>, actor: string, reason: string, now: Date): Promise<number> {
  let halted = 0;
  for (const open of await retractionsInStatus(trx, HALTABLE)) {
    const locked = await lockRetractionOf(trx, open.campaign_id);
    if (locked && (await haltRetractionWithin(trx, locked, actor, reason, now))) halted += 1;
  }
  return halted;
}

export type RetractionReport = z.infer<typeof retractionView>;

export async function retractionReport(ctx: Pick<AppContext, 'db'>, campaignId: string): Promise<RetractionReport | null> {
  const retraction = await findRetractionOf(ctx.db, campaignId);
  if (!retraction) return null;
  const approvals = await retractionApprovals(ctx.db, retraction.id);
  const outcomes = countOf(RETRACTION_ITEM_STATUSES, await countItemStatuses(ctx.db, retraction.id));
  const quorum = retractionQuorum(retraction.required_approvals, approvals, retraction.requested_by);
  return {
    id: retraction.id,
    campaignId: retraction.campaign_id,
    status: retraction.status,
    backend: retraction.backend,
    correctionId: retraction.correction_id,
    items: Object.values(outcomes).reduce((a, b) => a + b, 0),
    dryRun: countOf(DRY_RUN_OUTCOMES, await countDryRun(ctx.db, retraction.id)),
    outcomes,
    approvals: approvals.map((a) => ({ email: a.email, at: a.at })),
    quorum: { required: retraction.required_approvals, admin: quorum.admin, approvers: quorum.approvers, missing: quorum.missing },
    requestedBy: retraction.requested_by,
    createdAt: retraction.created_at,
    haltReason: retraction.halt_reason,
  };
}

export const retractionItemsQuery = z
  .object({
    after: z.coerce.number().int().min(0).default(0),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    status: z.enum(RETRACTION_ITEM_STATUSES).optional(),
  })
  .strict();

/** The retraction's ledger, paged: each recipient's Message-ID, what the dry run found and what was done. */
export async function retractionItems(
  ctx: Pick<AppContext, 'db'>,
  campaignId: string,
  query: unknown,
): Promise<z.infer<typeof retractionItemsView>> {
  const { after, limit, status } = parseInput(retractionItemsQuery, query, 'query');
  const retraction = await findRetractionOf(ctx.db, campaignId);
  if (!retraction) throw notFound('retraction');
  const rows = await pageItems(ctx.db, retraction.id, { afterSeq: after, limit, ...(status ? { status } : {}) });
  const items = rows.map((r) => ({
    seq: r.seq,
    email: r.email,
    messageId: r.message_id,
    dryRun: r.dry_run,
    dryRunResponse: r.dry_run_response,
    status: r.status,
    response: r.response,
    attempts: r.attempts,
    finishedAt: r.finished_at,
  }));
  return { items, next: items.length === limit ? items.at(-1)!.seq : null };
}

/** For the sweep: a retraction checking or running whose job Redis lost (or gave up) gets it back. */
export async function repairRetractions(ctx: AppContext): Promise<number> {
  let requeued = 0;
  for (const retraction of await retractionsInStatus(ctx.db, ['checking', 'running'])) {
    if (await ensureRetractionJob(ctx, { retractionId: retraction.id, phase: retraction.status === 'checking' ? 'check' : 'run' }))
      requeued += 1;
  }
  return requeued;
}

/** The job's door: re-reads the retraction, so a stale or repeated job does nothing harmful. */
export async function retractionStep(ctx: AppContext, job: { retractionId: string; phase: 'check' | 'run' }): Promise<void> {
  const retraction = await findRetraction(ctx.db, job.retractionId);
  if (job.phase === 'check' && retraction?.status === 'checking') await checkRetraction(ctx, job.retractionId);
  if (job.phase === 'run' && retraction?.status === 'running') await runRetraction(ctx, job.retractionId);
}
