import { countByStatus } from '../src/db/deliveries.js';
import { recallCampaign } from '../src/services/recall.js';
import type { Deployment } from './deployment.js';
import { AUDIENCE_DOMAIN } from './message.js';
import { externalBytes, megabytes, redisUsedMemory, rssBytes, samplePeak } from './sampler.js';
import type { SinkClient } from './sink-client.js';
import { monotonicMs } from './sink.js';

/** Generous guards against a hung run, scaled with the size; they are not targets. */
const guardMs = (messages: number) => 120_000 + messages * 20;

export interface PipelineResult {
  messages: number;
  /** From the send time until the last message reached the sink. */
  seconds: number;
  perSecond: number;
  /** From the send time until the campaign was `sent` (every ledger row final). */
  ledgerDoneSeconds: number;
  arrivedOnce: boolean;
}

/** Checks the sink's count against the ledger: every `sent` row arrived, each exactly once. */
async function arrivedOnce(deployment: Deployment, sink: SinkClient, campaignId: string, expected: number): Promise<boolean> {
  const stats = await sink.stats();
  const ledger = await countByStatus(deployment.ctx.db, campaignId);
  return stats.messages === expected && stats.distinctRecipients === expected && stats.duplicates === 0 && ledger.sent === expected;
}

export async function runPipeline(deployment: Deployment, sink: SinkClient, listId: string, messages: number): Promise<PipelineResult> {
  await sink.reset(`@${AUDIENCE_DOMAIN}`);
  const campaign = await deployment.approveCampaign(listId);
  await sink.waitFor(messages, guardMs(messages));
  const { lastAt } = await sink.stats();
  await deployment.until(async () => (await deployment.status(campaign.id)) === 'sent', 'the campaign to be sent', guardMs(messages), 20);
  const ledgerDone = monotonicMs();
  const seconds = (lastAt! - campaign.sendAt) / 1000;
  return {
    messages,
    seconds,
    perSecond: messages / seconds,
    ledgerDoneSeconds: (ledgerDone - campaign.sendAt) / 1000,
    arrivedOnce: await arrivedOnce(deployment, sink, campaign.id, messages),
  };
}

export interface FanOutResult {
  recipients: number;
  ledgerFullSeconds: number;
  firstMessageSeconds: number;
  allSentSeconds: number;
  peakRssMb: number;
  /** Part of the RSS: PGlite runs the database inside the process, in WebAssembly memory. */
  peakExternalMb: number;
  peakRedisMb: number;
  /** Peak Redis memory minus its level before the send: Redis is shared with others. */
  redisDeltaMb: number;
  arrivedOnce: boolean;
  campaignId: string;
}

export async function runFanOut(deployment: Deployment, sink: SinkClient, listId: string, recipients: number): Promise<FanOutResult> {
  const { db } = deployment.ctx;
  await sink.reset(`@${AUDIENCE_DOMAIN}`);
  const redisBefore = await redisUsedMemory(deployment.redis);
  const rss = samplePeak(rssBytes);
  const external = samplePeak(externalBytes);
  const redis = samplePeak(() => redisUsedMemory(deployment.redis));
  const campaign = await deployment.approveCampaign(listId);
  const ledgerRows = async () => {
    const row = await db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('campaign_id', '=', campaign.id)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  await deployment.until(async () => (await ledgerRows()) === recipients, 'the ledger to hold every recipient', guardMs(recipients), 20);
  const ledgerFull = monotonicMs();
  await deployment.until(async () => (await deployment.status(campaign.id)) === 'sent', 'the campaign to be sent', guardMs(recipients));
  const allSent = monotonicMs();
  const [peakRss, peakExternal, peakRedis] = [await rss.stop(), await external.stop(), await redis.stop()];
  const { firstAt } = await sink.stats();
  return {
    recipients,
    ledgerFullSeconds: (ledgerFull - campaign.sendAt) / 1000,
    firstMessageSeconds: (firstAt! - campaign.sendAt) / 1000,
    allSentSeconds: (allSent - campaign.sendAt) / 1000,
    peakRssMb: megabytes(peakRss),
    peakExternalMb: megabytes(peakExternal),
    peakRedisMb: megabytes(peakRedis),
    redisDeltaMb: megabytes(peakRedis - redisBefore),
    arrivedOnce: await arrivedOnce(deployment, sink, campaign.id, recipients),
    campaignId: campaign.id,
  };
}

export interface CorrectionResult {
  audience: number;
  seconds: number;
}

/** Recall of a sent campaign: the correction is created and frozen (submitted) from the ledger. */
export async function runCorrection(deployment: Deployment, campaignId: string): Promise<CorrectionResult> {
  const started = monotonicMs();
  const report = await recallCampaign(deployment.ctx, deployment.people.author, campaignId, { submit: true });
  const seconds = (monotonicMs() - started) / 1000;
  if (report.correction.recipient_count !== report.correctionAudience)
    throw new Error('the correction froze a different audience than the ledger holds');
  return { audience: report.correction.recipient_count!, seconds };
}

export interface HaltResult {
  recipients: number;
  /** How many had arrived when the halt was requested. */
  arrivedBeforeHalt: number;
  haltMs: number;
  inFlight: number;
  stopped: number;
  arrivedAfterHalt: number;
  /** Nothing beyond the in-flight count the halt reported arrived after it returned. */
  withinInFlight: boolean;
  /** Every `sent` row arrived exactly once, and the ledger accounts for every recipient as sent or halted. */
  arrivedOnce: boolean;
}

/** Halts a campaign through the real HTTP API (this deployment's, or the API process at `apiUrl`) once `haltAfter` of its messages have arrived. */
export async function runHalt(
  deployment: Deployment,
  sink: SinkClient,
  listId: string,
  recipients: number,
  haltAfter: number,
  apiUrl = deployment.baseUrl,
): Promise<HaltResult> {
  await sink.reset(`@${AUDIENCE_DOMAIN}`);
  const campaign = await deployment.approveCampaign(listId);
  await sink.waitFor(haltAfter, guardMs(recipients));
  const {
    status,
    text,
    requestedAt: requested,
    returnedAt: returned,
  } = await sink.post(
    `${apiUrl}/api/v1/campaigns/${campaign.id}/halt`,
    { authorization: `Bearer ${deployment.people.authorToken}`, 'content-type': 'application/json' },
    { reason: 'benchmark halt' },
  );
  if (status !== 200) throw new Error(`halt answered ${status}: ${text}`);
  const report = JSON.parse(text) as { inFlight: number; stopped: number };
  const arrivedBeforeHalt = (await sink.stats()).messages - (await sink.arrivalsAfter(requested));
  // Wait until what was in flight has landed, every queued window has run to its no-op and the halt's clean-up is done.
  await deployment.until(
    async () => (await countByStatus(deployment.ctx.db, campaign.id)).sending === 0 && (await deployment.queuesIdle()),
    'in-flight deliveries to finish',
    30_000,
  );
  const arrivedAfterHalt = await sink.arrivalsAfter(returned);
  const stats = await sink.stats();
  const ledger = await countByStatus(deployment.ctx.db, campaign.id);
  return {
    recipients,
    arrivedBeforeHalt,
    haltMs: returned - requested,
    inFlight: report.inFlight,
    stopped: report.stopped,
    arrivedAfterHalt,
    withinInFlight: arrivedAfterHalt <= report.inFlight,
    arrivedOnce: stats.messages === ledger.sent && stats.duplicates === 0 && ledger.sent + ledger.halted === recipients,
  };
}
