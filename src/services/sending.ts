import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { emailDomain } from '../domain/addresses.js';
import { attemptsWorthCounting, classifySmtpError, shouldAutoHalt, type SmtpOutcome } from '../domain/delivery.js';
import { findCampaign, lockCampaign, lockCampaignShared, updateCampaignIf } from '../db/campaigns.js';
import {
  countAttemptsUpTo,
  countByStatus,
  countFailed,
  countInFlight,
  hasUnfinishedDeliveries,
  ledgerHoldsSnapshot,
  passOverFinishedWindow,
  refreshLedgerStatistics,
  refreshReservations,
  releaseReservations,
  requeueHalted,
  reserveDeliveries,
  seededThrough,
  seedLedger,
  untilHeldElsewhereGoesStale,
  type DeliveryResult,
  type ReservedDelivery,
} from '../db/deliveries.js';
import type { CampaignRow, DB } from '../db/schema.js';
import { isKillSwitchEngaged } from '../db/system-state.js';
import { quietHoursEnd } from '../domain/policy.js';
import { prepareBody, RENDERER_VERSION, type PreparedBody } from '../mail/body.js';
import { composeMessage, senderHeaders, type MessageContent, type SenderHeaders } from '../mail/compose.js';
import type { DeliverJob, StartJob } from '../queue/jobs.js';
import { GlobalRateLimiter } from '../queue/rate-limit.js';
import { recordEvent } from './audit.js';
import { SYSTEM_ACTOR, type AppContext } from './context.js';
import { followThrough, joinLateWithin } from './corrections.js';
import { LedgerWriter } from './ledger-writer.js';
import { queueContinue, queueLateWindow, queueWindows, retryStartAt } from './dispatch.js';
import { tellSent, tellWaveSent } from './campaign-notices.js';
import { autoHalt } from './halt.js';
import { quorumInputOf, quorumOf } from './quorum.js';
import { transition } from './transition.js';

/** Windows copied into the ledger and queued together after the first, which goes alone. */
const WINDOWS_PER_FAN_OUT_STEP = 10;

/**
 * The dispatch step at send time: scheduled → sending, then the fan-out (ledger and windows).
 * Running it again on a sending campaign only repeats the fan-out, which is harmless.
 */
export async function startCampaign(ctx: AppContext, job: StartJob): Promise<'started' | 'refed' | 'not_due' | 'skipped'> {
  const now = ctx.now();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const campaign = await lockCampaign(trx, job.campaignId);
    if (!campaign || campaign.content_hash !== job.contentHash) return 'skipped' as const;
    if (campaign.status === 'sending') return 'refed' as const;
    if (campaign.status !== 'scheduled') return 'skipped' as const;
    if (campaign.scheduled_for && campaign.scheduled_for.getTime() > now.getTime()) return 'not_due' as const;
    if (await isKillSwitchEngaged(trx)) return 'skipped' as const;
    const refusal = await whyNotSend(trx, campaign, 'current');
    if (refusal) return { refused: refusal } as const;
    const quietUntil = await quietHoursHold(trx, campaign, now);
    if (quietUntil) {
      await updateCampaignIf(trx, campaign.id, ['scheduled'], { scheduled_for: quietUntil });
      await recordEvent(trx, {
        actor: SYSTEM_ACTOR,
        action: 'campaign.quiet_hours',
        campaignId: campaign.id,
        data: { startsAt: quietUntil.toISOString() },
        at: now,
      });
      return { waitUntil: quietUntil } as const;
    }
    // A campaign resumed after a halt already has its ledger: the rest goes with the wave.
    const resumed = (await seededThrough(trx, campaign.id, campaign.recipient_count ?? 0)) > 0;
    await updateCampaignIf(trx, campaign.id, ['scheduled'], {
      status: transition(campaign.status, 'start'),
      started_at: now,
      wave_stage: campaign.wave_size ? (resumed ? 'rest' : 'first') : null,
    });
    await requeueHalted(trx, campaign.id);
    await recordEvent(trx, {
      actor: SYSTEM_ACTOR,
      action: 'campaign.start',
      campaignId: campaign.id,
      data: { recipientCount: campaign.recipient_count, firstWave: resumed ? null : campaign.wave_size },
      at: now,
    });
    return 'started' as const;
  });
  if (typeof outcome === 'object') {
    if (outcome.refused !== undefined) {
      await autoHalt(ctx, job.campaignId, outcome.refused, ['scheduled']);
      return 'skipped';
    }
    await retryStartAt(ctx, job, outcome.waitUntil!);
    return 'not_due';
  }
  if (outcome === 'not_due') {
    const campaign = await findCampaign(ctx.db, job.campaignId);
    if (campaign?.scheduled_for) await retryStartAt(ctx, job, campaign.scheduled_for);
  }
  if (outcome !== 'started' && outcome !== 'refed') return outcome;
  const campaign = await findCampaign(ctx.db, job.campaignId);
  if (!campaign) return outcome;
  await fanOut(ctx, job, fanOutRange(campaign));
  if (campaign.original_campaign_id) await followThrough(ctx, campaign.original_campaign_id);
  return outcome;
}

/** The seqs the fan-out may copy now: the first wave alone until it has gone and the pause is over. */
export function fanOutRange(campaign: CampaignRow): { fromSeq: number; toSeq: number } {
  const total = campaign.recipient_count ?? 0;
  const waveOnly = campaign.wave_size && (campaign.wave_stage === 'first' || campaign.wave_stage === 'paused');
  return { fromSeq: 1, toSeq: waveOnly ? campaign.wave_size! : total };
}

/**
 * Inside the policy's quiet hours a campaign does not start: it waits for the window to end,
 * unless the policy lets an admin approve it inside one and an admin did.
 */
async function quietHoursHold(db: Kysely<DB>, campaign: CampaignRow, now: Date): Promise<Date | null> {
  const quiet = campaign.policy?.quietHours ?? null;
  const until = quietHoursEnd(quiet, now);
  if (!until) return null;
  if (quiet?.adminMayApprove) {
    const input = await quorumInputOf(db, { ...campaign, content_hash: campaign.content_hash! });
    const byAdmin = input.approvals.some(
      (a) => a.approverIsAdmin && a.decision === 'approve' && !a.voided && a.contentHash === campaign.content_hash,
    );
    if (byAdmin) return null;
  }
  return until;
}

/**
 * Why this campaign must not send, or null. Checked when it starts (approvers' roles as they
 * stand now) and before each window (as they were when it started): the content's renderer must
 * be the one its approvers saw, and its approvals must make a quorum for exactly this content.
 */
async function whyNotSend(db: Kysely<DB>, campaign: CampaignRow, roles: 'current' | 'as_approved'): Promise<string | null> {
  if (campaign.renderer_version !== RENDERER_VERSION) {
    return `it was approved as rendered by renderer version ${campaign.renderer_version ?? 1}, and this version of Countersign renders version ${RENDERER_VERSION}: submit it again so that approvers see what recipients would get`;
  }
  if (!(await quorumOf(db, campaign, roles)).reached) return 'its approvals do not make a quorum for this content at send time';
  return null;
}

/**
 * Copies the frozen snapshot into the ledger and queues its windows a step at a time, the
 * first step a single window: the first messages leave while the rest is still being
 * copied, and no audience passes through memory. Each step holds a share lock on the
 * campaign, so a halt waits for the step and counts its rows, and no step runs after it.
 */
export async function fanOut(ctx: AppContext, job: StartJob, range: { fromSeq: number; toSeq: number }): Promise<void> {
  const campaign = await findCampaign(ctx.db, job.campaignId);
  if (!campaign) return;
  const windowSize = ctx.config.DELIVERY_BATCH_SIZE;
  const total = range.toSeq;
  let fromSeq = range.fromSeq;
  let stepSize = windowSize;
  while (fromSeq <= total) {
    const toSeq = Math.min(total, fromSeq + stepSize - 1);
    const seeded = await ctx.db.transaction().execute(async (trx) => {
      const current = await lockCampaignShared(trx, campaign.id);
      if (current?.status !== 'sending' || current.content_hash !== job.contentHash) return false;
      await seedLedger(trx, campaign.id, fromSeq, toSeq);
      return true;
    });
    if (!seeded) return;
    await queueWindows(ctx, campaign, job.contentHash, fromSeq, toSeq);
    // A ledger never analysed would have the first window's statements read the whole campaign.
    // A fan-out done in one step is analysed just below.
    if (fromSeq === range.fromSeq && toSeq < total) await refreshLedgerStatistics(ctx.db, { ifNone: true });
    fromSeq = toSeq + 1;
    stepSize = windowSize * WINDOWS_PER_FAN_OUT_STEP;
  }
  await refreshLedgerStatistics(ctx.db);
}

export class TransientDeliveryError extends Error {}

/** What every deliver job of a worker process shares: the global rate budget, the ledger writes, and its stop. */
export interface DeliveryTools {
  limiter: GlobalRateLimiter;
  ledger: LedgerWriter;
  /** Aborted when the process stops: jobs start nothing more and hand the rest of their window back. */
  stopping?: AbortSignal;
}

export function deliveryTools(ctx: AppContext, stopping?: AbortSignal): DeliveryTools {
  return {
    limiter: new GlobalRateLimiter(ctx.queues.redis, `${ctx.queues.prefix}:rate:smtp`, ctx.config.SEND_RATE_PER_SECOND),
    ledger: new LedgerWriter(ctx),
    stopping,
  };
}

/** A window left part-way because its worker is stopping: BullMQ retries the job, on whichever worker is running. */
export class WorkerStoppingError extends TransientDeliveryError {}

/** How long a reservation holds without being refreshed: then a dead worker's rows may be taken over. */
export const RESERVATION_SECONDS = 10;
/** Past the moment a reservation goes stale, so the next reservation surely finds it so. */
const STALE_MARGIN_MS = 50;

/**
 * Sends one window. Rows are reserved a few at a time, as many as there are free SMTP
 * connections, and each moves to `sending` (a conditional update that re-checks the campaign and
 * the kill switch) only as its own SMTP transaction starts. Its outcome is written as soon as
 * the server answers.
 */
export async function deliverWindow(ctx: AppContext, tools: DeliveryTools, job: DeliverJob): Promise<void> {
  const campaign = await findCampaign(ctx.db, job.campaignId);
  if (!campaign || campaign.status !== 'sending' || campaign.content_hash !== job.contentHash) return;
  const refusal = await whyNotSend(ctx.db, campaign, 'as_approved');
  if (refusal) {
    await autoHalt(ctx, campaign.id, refusal);
    return;
  }
  const content = { subject: campaign.subject, fromAddress: campaign.from_address, fromName: campaign.from_name };
  const send: Sender = {
    ctx,
    tools,
    campaign: { id: campaign.id, contentHash: job.contentHash },
    content,
    senderHeaders: senderHeaders(content),
    body: preparedBodyOf(job.contentHash, campaign.body_markdown),
    token: randomUUID(),
  };
  const reservations = { campaignId: campaign.id, fromSeq: job.fromSeq, toSeq: job.toSeq, token: send.token };
  const refresh = setInterval(() => void refreshReservations(ctx.db, reservations).catch(() => {}), (RESERVATION_SECONDS * 1000) / 3);
  // Rows that met a temporary failure wait for the job's retry (with backoff), not for the next round.
  const retryLater: number[] = [];
  const sending = new Set<Promise<void>>();
  let failures = false;
  let done = false;
  let broken: unknown = null;
  let handedBack = false;
  try {
    // Each row waits for a connection of its own and goes as soon as one frees, so one slow
    // transaction holds up nothing but itself. The job keeps up to DELIVERY_CLAIM_SIZE rows
    // reserved or on their way, refilling once half have gone: reservations come in batches,
    // and a reserved row is not in flight (a halt stops it before it starts).
    const target = ctx.config.DELIVERY_CLAIM_SIZE;
    while (!done || sending.size > 0) {
      // A stopping worker lets its transactions under way finish and starts no more.
      if (!done && tools.stopping?.aborted) {
        done = true;
        handedBack = true;
      }
      if (done || broken || sending.size > target / 2) {
        done ||= Boolean(broken);
        if (sending.size > 0) await Promise.race(sending);
        continue;
      }
      const size = target - sending.size;
      const reserved = await reserveDeliveries(ctx.db, {
        campaignId: campaign.id,
        contentHash: job.contentHash,
        fromSeq: job.fromSeq,
        toSeq: job.toSeq,
        limit: size,
        messageIdDomain: emailDomain(campaign.from_address),
        token: send.token,
        staleSeconds: RESERVATION_SECONDS,
        skipSeqs: retryLater,
      });
      if (reserved.length === 0) {
        // Rows another job holds: a live job sends them; a dead one's are taken over here once stale.
        const waitMs = await untilHeldElsewhereGoesStale(ctx.db, {
          ...reservations,
          contentHash: job.contentHash,
          staleSeconds: RESERVATION_SECONDS,
        });
        if (waitMs === null) done = true;
        else await sleep(waitMs + STALE_MARGIN_MS, undefined, { signal: tools.stopping }).catch(() => {});
      }
      // The rate budget is drawn for the rows reserved, not those asked for: a window's last,
      // short or empty reservation must not use up sends that no row makes. Reserved rows wait
      // for it as they are, not in flight.
      else await tools.limiter.take(reserved.length);
      for (const row of reserved) {
        // A row that could not start (halted, kill switch, reservation lost) is left as it is:
        // the next reservation re-checks the campaign and finds nothing once it is halted.
        const running: Promise<void> = sendOne(send, row)
          .then((result) => {
            if (result?.status === 'queued') retryLater.push(result.seq);
            if (result?.status === 'failed') failures = true;
          })
          .catch((error: unknown) => void (broken ??= error))
          .finally(() => sending.delete(running));
        sending.add(running);
      }
      if (failures) {
        failures = false;
        if (await haltedForFailures(ctx, campaign.id)) done = true;
      }
    }
  } finally {
    clearInterval(refresh);
    await releaseReservations(ctx.db, reservations);
    await passOverFinishedWindow(ctx.db, reservations);
  }
  if (broken) throw broken;
  if (handedBack) throw new WorkerStoppingError('the worker is stopping: the rest of the window goes back to the queue');
  // Rows that were in flight when a recall halted this campaign have now landed: they get the correction.
  if ((await findCampaign(ctx.db, campaign.id))?.status === 'halted') await followThrough(ctx, campaign.id);
  await finishIfComplete(ctx, campaign.id);
  if (retryLater.length > 0) throw new TransientDeliveryError(`${retryLater.length} deliveries met a temporary SMTP failure; retrying`);
}

/** A window renders the same body as the campaign's others: the last few are kept, by content hash. */
const preparedBodies = new Map<string, PreparedBody>();
const PREPARED_BODIES_KEPT = 16;

function preparedBodyOf(contentHash: string, markdown: string): PreparedBody {
  let body = preparedBodies.get(contentHash);
  if (!body) {
    body = prepareBody(markdown);
    if (preparedBodies.size >= PREPARED_BODIES_KEPT) preparedBodies.delete(preparedBodies.keys().next().value!);
    preparedBodies.set(contentHash, body);
  }
  return body;
}

interface Sender {
  ctx: AppContext;
  tools: DeliveryTools;
  campaign: { id: string; contentHash: string };
  content: MessageContent;
  senderHeaders: SenderHeaders;
  body: PreparedBody;
  /** This job's reservation token. */
  token: string;
}

/** One recipient: starts when a connection is free (if the campaign still sends), records the outcome at once; null if it never started. */
async function sendOne(send: Sender, row: ReservedDelivery): Promise<DeliveryResult | null> {
  const { ctx, tools, campaign } = send;
  const message = composeMessage(
    send.content,
    send.body,
    { email: row.email, name: row.name, fields: row.fields, messageId: row.message_id, replyToMessageId: row.reply_to_message_id },
    send.senderHeaders,
  );
  let attempt = 0;
  const begin = async () => {
    // A row still waiting for a connection when its worker stops is not started: it goes back with the window.
    if (tools.stopping?.aborted) return false;
    attempt = (await tools.ledger.start(campaign.id, campaign.contentHash, row.seq, send.token)) ?? 0;
    return attempt > 0;
  };
  let result: DeliveryResult;
  try {
    const receipt = await ctx.mailer.send(message, { begin });
    if (!receipt) return null;
    result = { seq: row.seq, status: 'sent', response: receipt.response };
  } catch (error) {
    if (attempt === 0) throw error;
    result = failedDelivery(ctx, row.seq, attempt, classifySmtpError(error as Error));
  }
  await tools.ledger.record(campaign.id, result);
  return result;
}

function failedDelivery(ctx: AppContext, seq: number, attempt: number, outcome: SmtpOutcome): DeliveryResult {
  if (outcome.kind === 'permanent') return { seq, status: 'failed', response: outcome.response };
  if (outcome.kind === 'ambiguous') return { seq, status: 'unknown', response: outcome.response };
  if (attempt >= ctx.config.DELIVERY_MAX_ATTEMPTS)
    return { seq, status: 'failed', response: `gave up after ${attempt} attempts: ${outcome.response}` };
  return { seq, status: 'queued', response: outcome.response };
}

async function haltedForFailures(ctx: AppContext, campaignId: string): Promise<boolean> {
  const rate = ctx.config.AUTO_HALT_FAILURE_RATE;
  const minAttempts = ctx.config.AUTO_HALT_MIN_ATTEMPTS;
  const failed = await countFailed(ctx.db, campaignId);
  // Exact whenever it halts: attempts are counted up to where the answer could change.
  const attempted = await countAttemptsUpTo(ctx.db, campaignId, attemptsWorthCounting(failed, rate, minAttempts));
  if (!shouldAutoHalt({ failed, attempted }, rate, minAttempts)) return false;
  const reason = `${failed} of ${attempted} deliveries failed permanently, more than ${Math.round(rate * 100)}%`;
  await autoHalt(ctx, campaignId, reason);
  return true;
}

/**
 * sending → sent once every delivery has a final status. A correction also waits for the
 * original's in-flight deliveries: any of them that lands must still get the correction.
 */
export async function finishIfComplete(ctx: AppContext, campaignId: string): Promise<boolean> {
  if (await hasUnfinishedDeliveries(ctx.db, campaignId)) return false;
  const now = ctx.now();
  const outcome = await ctx.db.transaction().execute(async (trx) => {
    const campaign = await lockCampaign(trx, campaignId);
    if (!campaign || campaign.status !== 'sending' || (await hasUnfinishedDeliveries(trx, campaignId))) return { finished: false } as const;
    if (campaign.wave_stage === 'paused') return { finished: false } as const;
    if (campaign.wave_stage === 'first') {
      // The first wave has gone: pause before the rest.
      if ((await seededThrough(trx, campaignId, campaign.wave_size!)) < campaign.wave_size!) return { finished: false } as const;
      const until = new Date(now.getTime() + ctx.config.FIRST_WAVE_HOLD_MINUTES * 60_000);
      await updateCampaignIf(trx, campaignId, ['sending'], { wave_stage: 'paused', wave_paused_until: until });
      const deliveries = await countByStatus(trx, campaignId);
      await recordEvent(trx, {
        actor: SYSTEM_ACTOR,
        action: 'campaign.first_wave_sent',
        campaignId,
        data: { deliveries, continuesAt: until.toISOString() },
        at: now,
      });
      return { finished: false, paused: { campaign, until, deliveries } } as const;
    }
    // Every row so far may be final while the fan-out is still copying the rest.
    if (!(await ledgerHoldsSnapshot(trx, campaignId, campaign.recipient_count ?? 0))) return { finished: false } as const;
    if (campaign.original_campaign_id) {
      if ((await countInFlight(trx, campaign.original_campaign_id)) > 0) return { finished: false } as const;
      // Under this lock, late recipients either joined already or join now: none is left out by finishing.
      const late = await joinLateWithin(ctx, trx, campaign);
      if (late) return { finished: false, late, campaign } as const;
    }
    await updateCampaignIf(trx, campaignId, ['sending'], { status: transition(campaign.status, 'finish'), finished_at: now });
    const deliveries = await countByStatus(trx, campaignId);
    await recordEvent(trx, { actor: SYSTEM_ACTOR, action: 'campaign.sent', campaignId, data: { deliveries }, at: now });
    return { finished: true, sent: { campaign, deliveries } } as const;
  });
  if ('sent' in outcome && outcome.sent) await tellSent(ctx, outcome.sent.campaign, outcome.sent.deliveries);
  if ('late' in outcome && outcome.late) await queueLateWindow(ctx, outcome.campaign, outcome.late);
  if ('paused' in outcome && outcome.paused) {
    await queueContinue(ctx, campaignId, outcome.paused.until);
    await tellWaveSent(ctx, outcome.paused.campaign, outcome.paused.deliveries, outcome.paused.until);
  }
  return outcome.finished;
}
