import type { CampaignView } from '../domain/api-shapes.js';
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { AudienceDigest, contentHash } from '../domain/content-hash.js';
import { CORRECTION_AUDIENCE_STATUSES } from '../domain/delivery.js';
import { createCampaignInput, editCampaignInput } from '../domain/inputs.js';
import { mergeFieldsIn, unfilledMergeFields } from '../domain/merge-fields.js';
import { isContributor, requiredApprovals } from '../domain/quorum.js';
import { sendAtProblem } from '../domain/schedule.js';
import { approvalHistory, voidDecisions } from '../db/approvals.js';
import {
  addEditor,
  fieldCoverage,
  findCampaign,
  insertCampaign,
  chooseFirstWave,
  countOutside,
  insertSnapshotFromLedger,
  listNames,
  markSuppressed,
  listCampaigns,
  lockCampaign,
  missingListIds,
  openCorrectionOf,
  pageSnapshot,
  recordVersion,
  snapshotAudience,
  updateCampaignIf,
  type CampaignSearch,
} from '../db/campaigns.js';
import { countByStatus, countInFlight } from '../db/deliveries.js';
import type { AudienceSpec, CampaignRow, DB } from '../db/schema.js';
import { findUserById, usersWithRole } from '../db/users.js';
import { evaluatePolicy, type PolicyDecision } from '../domain/policy.js';
import { bodyProblems, RENDERER_VERSION } from '../mail/body.js';
import { recordEvent } from './audit.js';
import { requireRole, type Actor, type AppContext } from './context.js';
import { conflict, invalid, notFound, parseInput } from './errors.js';
import { issueApprovalRequests } from './approval-links.js';
import { cancelStartJob } from './dispatch.js';
import { ownDomainsOf } from './organisation.js';
import { quorumInputOf, quorumOf } from './quorum.js';
import { transition } from './transition.js';

/** A campaign as the doors see it. */
export type Campaign = CampaignRow;

export async function getCampaign(ctx: AppContext, id: string): Promise<CampaignRow> {
  const campaign = await findCampaign(ctx.db, id);
  if (!campaign) throw notFound('campaign');
  return campaign;
}

export function findCampaigns(ctx: AppContext, search: CampaignSearch, page: { limit: number; offset: number }): Promise<CampaignRow[]> {
  return listCampaigns(ctx.db, search, page);
}

async function assertListsExist(db: Kysely<DB>, listIds: string[]): Promise<void> {
  const missing = await missingListIds(db, listIds);
  if (missing.length) {
    throw invalid(missing.map((id) => ({ field: `audience.listIds.${listIds.indexOf(id)}`, message: `no list with id ${id}` })));
  }
}

/** The body must render to exactly what approvers are shown: no raw HTML, images or unsafe links, each named by line. */
export function assertBodyRenders(body: string): void {
  const problems = bodyProblems(body);
  if (problems.length) throw invalid(problems.map((p) => ({ field: 'body', message: `line ${p.line}: ${p.message}` })));
}

/** A requested send time in the past is refused, naming it: 400 on `sendAt`. */
export function assertSendAtAhead(sendAt: string | null | undefined, now: Date): void {
  const problem = sendAt ? sendAtProblem(new Date(sendAt), now) : null;
  if (problem) throw invalid([{ field: 'sendAt', message: problem }]);
}

export async function createCampaign(ctx: AppContext, actor: Actor, body: unknown): Promise<CampaignRow> {
  requireRole(actor, 'author');
  const input = parseInput(createCampaignInput, body);
  assertBodyRenders(input.body);
  const now = ctx.now();
  assertSendAtAhead(input.sendAt, now);
  await assertListsExist(ctx.db, input.audience.listIds);
  return ctx.db.transaction().execute(async (trx) => {
    const campaign = await insertCampaign(trx, {
      id: randomUUID(),
      kind: 'policy',
      status: 'draft',
      subject: input.subject,
      body_markdown: input.body,
      from_address: input.fromAddress ?? ctx.config.DEFAULT_FROM,
      from_name: input.fromName ?? ctx.config.DEFAULT_FROM_NAME,
      audience: JSON.stringify(input.audience satisfies AudienceSpec),
      send_at: input.sendAt ? new Date(input.sendAt) : null,
      required_approvals: requiredApprovals(ctx.config.REQUIRED_APPROVALS, input.requiredApprovals),
      mandatory: input.mandatory ?? false,
      external: input.external ?? false,
      first_wave: JSON.stringify(input.firstWave ?? null),
      author_id: actor.id,
      updated_at: now,
    });
    await addEditor(trx, campaign.id, actor.id);
    await recordEvent(trx, {
      actor: actor.email,
      action: 'campaign.create',
      campaignId: campaign.id,
      data: { subject: input.subject },
      at: now,
    });
    return campaign;
  });
}

/** Any edit returns a submitted campaign to draft and voids every approval (they stay in history). */
export async function editCampaign(ctx: AppContext, actor: Actor, id: string, body: unknown): Promise<CampaignRow> {
  requireRole(actor, 'author');
  const input = parseInput(editCampaignInput, body);
  if (input.body !== undefined) assertBodyRenders(input.body);
  const now = ctx.now();
  assertSendAtAhead(input.sendAt, now);
  if (input.audience) await assertListsExist(ctx.db, input.audience.listIds);
  const { campaign, previous } = await ctx.db.transaction().execute(async (trx) => {
    const current = await lockCampaign(trx, id);
    if (!current) throw notFound('campaign');
    transition(current.status, 'edit');
    if (current.kind === 'correction' && input.audience) {
      throw invalid([
        { field: 'audience', message: "a correction's audience comes from the original's delivery ledger and cannot be edited" },
      ]);
    }
    const voided = await voidDecisions(trx, id, 'edited');
    const updated = await updateCampaignIf(trx, id, [current.status], {
      status: 'draft',
      subject: input.subject ?? current.subject,
      body_markdown: input.body ?? current.body_markdown,
      from_address: input.fromAddress ?? current.from_address,
      from_name: input.fromName ?? current.from_name,
      audience: JSON.stringify(input.audience ?? current.audience),
      send_at: input.sendAt === undefined ? current.send_at : input.sendAt === null ? null : new Date(input.sendAt),
      required_approvals:
        input.requiredApprovals === undefined
          ? current.required_approvals
          : requiredApprovals(ctx.config.REQUIRED_APPROVALS, input.requiredApprovals),
      mandatory: input.mandatory ?? current.mandatory,
      external: input.external ?? current.external,
      first_wave: JSON.stringify(input.firstWave === undefined ? current.first_wave : input.firstWave),
      content_hash: null,
      quorum_reached_at: null,
      scheduled_for: null,
    });
    await addEditor(trx, id, actor.id);
    await recordEvent(trx, {
      actor: actor.email,
      action: 'campaign.edit',
      campaignId: id,
      data: { fields: Object.keys(input).sort(), previousStatus: current.status, voidedApprovals: voided },
      at: now,
    });
    return { campaign: updated!, previous: current };
  });
  if (previous.status === 'scheduled' && previous.content_hash) await cancelStartJob(ctx, id, previous.content_hash);
  return campaign;
}

const DIGEST_PAGE = 5000;

/** Freezes content and audience, hashes them, and asks every eligible approver. */
export async function submitCampaign(ctx: AppContext, actor: Actor, id: string): Promise<CampaignRow> {
  const { campaign, requests } = await ctx.db.transaction().execute((trx) => submitWithin(ctx, trx, actor, id));
  await requests.enqueue();
  return campaign;
}

/** Submit inside the caller's transaction (a recall submits its correction with its halt); the approval emails go after commit. */
export async function submitWithin(
  ctx: AppContext,
  trx: Transaction<DB>,
  actor: Actor,
  id: string,
): Promise<{ campaign: CampaignRow; requests: { enqueue(): Promise<void> } }> {
  requireRole(actor, 'author');
  const now = ctx.now();
  const current = await lockCampaign(trx, id);
  if (!current) throw notFound('campaign');
  const to = transition(current.status, 'submit');
  if (current.status === 'halted' && (await openCorrectionOf(trx, id))) {
    throw conflict('recalled', 'this campaign was recalled; it cannot be resumed');
  }
  // A halted campaign resumes with the content and audience it had: only the approvals start afresh.
  const frozen = current.status === 'halted' ? frozenOf(current) : await freeze(ctx, trx, current);
  const contributors = await quorumInputOf(trx, { ...current, content_hash: frozen.hash });
  const approvers = (await usersWithRole(trx, 'approver')).filter((u) => !isContributor(contributors, u.id));
  const required = Math.max(current.required_approvals, frozen.policy?.requiredApprovals ?? 0);
  if (approvers.length < required) {
    throw conflict(
      'not_enough_approvers',
      `this campaign needs ${required} approvals but only ${approvers.length} approver(s) may approve it (authors, editors and list contributors cannot)`,
    );
  }
  if (frozen.policy?.adminApprover && !approvers.some((a) => a.roles.includes('admin'))) {
    throw conflict('not_enough_approvers', 'the policy needs an admin among the approvers, and no admin may approve this campaign');
  }
  await voidDecisions(trx, id, 'resubmitted');
  const updated = await updateCampaignIf(trx, id, [current.status], {
    status: to,
    content_hash: frozen.hash,
    renderer_version: RENDERER_VERSION,
    audience_digest: frozen.audienceDigest,
    recipient_count: frozen.recipientCount,
    skipped_count: frozen.skipped,
    wave_size: frozen.waveSize,
    wave_stage: null,
    wave_paused_until: null,
    policy: JSON.stringify(frozen.policy),
    required_approvals: required,
    submitted_at: now,
    quorum_reached_at: null,
    scheduled_for: null,
  });
  await recordVersion(trx, updated!);
  const requests = await issueApprovalRequests(ctx, trx, updated!, approvers, actor);
  await recordEvent(trx, {
    actor: actor.email,
    action: current.status === 'halted' ? 'campaign.resubmit' : 'campaign.submit',
    campaignId: id,
    data: { contentHash: frozen.hash, recipientCount: frozen.recipientCount, approversAsked: approvers.map((a) => a.email) },
    at: now,
  });
  return { campaign: updated!, requests };
}

interface Frozen {
  hash: string;
  audienceDigest: string;
  recipientCount: number;
  skipped: number;
  waveSize: number | null;
  policy: PolicyDecision | null;
}

/** A halted campaign keeps its snapshot and what the policy decided; its hash is taken again, so a renderer change since is approved too. */
function frozenOf(campaign: CampaignRow): Frozen {
  const frozen = {
    audienceDigest: campaign.audience_digest!,
    recipientCount: campaign.recipient_count!,
    skipped: campaign.skipped_count ?? 0,
    waveSize: campaign.wave_size,
    policy: campaign.policy,
  };
  return { ...frozen, hash: hashOf(campaign, frozen) };
}

function hashOf(campaign: CampaignRow, frozen: Omit<Frozen, 'hash'>): string {
  return contentHash({
    kind: campaign.kind,
    subject: campaign.subject,
    bodyMarkdown: campaign.body_markdown,
    fromAddress: campaign.from_address,
    fromName: campaign.from_name,
    sendAt: campaign.send_at?.toISOString() ?? null,
    recipientCount: frozen.recipientCount,
    audienceDigest: frozen.audienceDigest,
    originalCampaignId: campaign.original_campaign_id,
    rendererVersion: RENDERER_VERSION,
    mandatory: campaign.mandatory,
    external: campaign.external,
    skipped: frozen.skipped,
    waveSize: frozen.waveSize,
    policy: frozen.policy,
  });
}

async function freeze(ctx: AppContext, trx: Transaction<DB>, campaign: CampaignRow): Promise<Frozen> {
  assertBodyRenders(campaign.body_markdown);
  let recipientCount: number;
  if (campaign.kind === 'correction') {
    recipientCount = await insertSnapshotFromLedger(trx, campaign.id, campaign.original_campaign_id!, CORRECTION_AUDIENCE_STATUSES);
    // Nobody recorded yet but some in flight: they join the correction as their results arrive.
    if (recipientCount === 0 && (await countInFlight(trx, campaign.original_campaign_id!)) === 0) {
      throw invalid([
        { field: 'audience', message: 'nobody has received the original, and none of it is in flight: there is nobody to correct' },
      ]);
    }
  } else {
    await assertListsExist(trx, campaign.audience.listIds);
    recipientCount = await snapshotAudience(trx, campaign.id, campaign.audience);
    if (recipientCount === 0)
      throw invalid([{ field: 'audience', message: 'the audience is empty: add a list with members or recipients' }]);
  }
  const coverage = await fieldCoverage(trx, campaign.id);
  const issues = (['subject', 'body'] as const).flatMap((field) =>
    unfilledMergeFields(mergeFieldsIn(field === 'subject' ? campaign.subject : campaign.body_markdown), coverage, recipientCount).map(
      ({ field: name, missing }) => ({
        field,
        message:
          missing === recipientCount
            ? `unknown merge field {{${name}}}: no recipient has it`
            : `merge field {{${name}}} has no value for ${missing} of ${recipientCount} recipients`,
      }),
    ),
  );
  if (issues.length) throw invalid(issues);
  // Before the guardrails: a first wave renumbers the snapshot, which is in address order until then.
  const audienceDigest = await digestSnapshot(trx, campaign.id, recipientCount);
  // A correction goes to who got the original, whatever the suppressions and the policy say now.
  const guarded =
    campaign.kind === 'correction'
      ? { skipped: 0, waveSize: null, policy: null }
      : await applyGuardrails(ctx, trx, campaign, recipientCount);
  const frozen = { audienceDigest, recipientCount, ...guarded };
  return { ...frozen, hash: hashOf(campaign, frozen) };
}

async function digestSnapshot(trx: Transaction<DB>, campaignId: string, recipientCount: number): Promise<string> {
  const digest = new AudienceDigest();
  for (let after = 0; after < recipientCount; after += DIGEST_PAGE) {
    for (const recipient of await pageSnapshot(trx, campaignId, after, DIGEST_PAGE)) digest.add(recipient);
  }
  if (digest.count !== recipientCount) throw new Error(`the snapshot's digest read ${digest.count} of ${recipientCount} recipients`);
  return digest.digest();
}

/**
 * What catches what two approvers might let slip, frozen with the snapshot: suppressions mark
 * rows skipped, the policy decides (or refuses), and a first wave is chosen and put first.
 */
async function applyGuardrails(
  ctx: AppContext,
  trx: Transaction<DB>,
  campaign: CampaignRow,
  recipientCount: number,
): Promise<Omit<Frozen, 'hash' | 'audienceDigest' | 'recipientCount'>> {
  const skipped = await markSuppressed(trx, campaign.id, campaign.mandatory);
  const reaching = recipientCount - skipped;
  if (reaching === 0) throw invalid([{ field: 'audience', message: `every one of the ${recipientCount} recipients is suppressed` }]);
  const author = await findUserById(trx, campaign.author_id);
  const { decision, refusals } = evaluatePolicy(ctx.policy, {
    recipientCount: reaching,
    externalCount: await countOutside(trx, campaign.id, ownDomainsOf(ctx, campaign)),
    markedExternal: campaign.external,
    listNames: await listNames(trx, campaign.audience.listIds),
    fromAddress: campaign.from_address,
    fromName: campaign.from_name,
    author: { email: author?.email ?? '', roles: author?.roles ?? [] },
    requiredApprovals: campaign.required_approvals,
    firstWave: campaign.first_wave,
  });
  if (refusals.length) throw invalid(refusals);
  let waveSize: number | null = null;
  if (decision.firstWave) {
    const { share, count, seedListIds } = decision.firstWave;
    const chosen = await chooseFirstWave(trx, campaign.id, { share: share ?? Math.min(1, (count ?? 0) / reaching), seedListIds });
    // A wave as large as the audience is no wave: everyone gets it at once.
    waveSize = chosen > 0 && chosen < reaching ? chosen : null;
  }
  return { skipped, waveSize, policy: decision };
}

export async function cancelCampaign(ctx: AppContext, actor: Actor, id: string): Promise<CampaignRow> {
  requireRole(actor, 'author', 'approver', 'admin');
  const now = ctx.now();
  const { campaign, previous } = await ctx.db.transaction().execute(async (trx) => {
    const current = await lockCampaign(trx, id);
    if (!current) throw notFound('campaign');
    const updated = await updateCampaignIf(trx, id, [current.status], {
      status: transition(current.status, 'cancel'),
      scheduled_for: null,
    });
    await recordEvent(trx, {
      actor: actor.email,
      action: 'campaign.cancel',
      campaignId: id,
      data: { previousStatus: current.status },
      at: now,
    });
    return { campaign: updated!, previous: current };
  });
  if (previous.status === 'scheduled' && previous.content_hash) await cancelStartJob(ctx, id, previous.content_hash);
  return campaign;
}

/** For a correction: how many got the original (or may have), and how many the correction reaches. */
async function correctionAudience(ctx: AppContext, correction: CampaignRow) {
  const original = await countByStatus(ctx.db, correction.original_campaign_id!);
  const ledger = await countByStatus(ctx.db, correction.id);
  const joined = Object.values(ledger).reduce((a, b) => a + b, 0);
  return {
    receivedOriginal: original.sent + original.unknown,
    originalInFlight: original.sending,
    willReach: Math.max(joined, correction.recipient_count ?? original.sent + original.unknown),
  };
}

/** The campaign as the API shows it: state, hash, approvals and delivery counts. */
export async function describeCampaign(ctx: AppContext, campaign: CampaignRow): Promise<CampaignView> {
  const [history, quorum, deliveries] = await Promise.all([
    approvalHistory(ctx.db, campaign.id),
    quorumOf(ctx.db, campaign),
    countByStatus(ctx.db, campaign.id),
  ]);
  return {
    id: campaign.id,
    kind: campaign.kind,
    status: campaign.status,
    subject: campaign.subject,
    body: campaign.body_markdown,
    fromAddress: campaign.from_address,
    fromName: campaign.from_name,
    audience: campaign.audience,
    sendAt: campaign.send_at,
    authorId: campaign.author_id,
    contentHash: campaign.content_hash,
    recipientCount: campaign.recipient_count,
    /** Of `recipientCount`, suppressed when the audience was frozen: their deliveries are `skipped`. */
    skipped: campaign.skipped_count,
    mandatory: campaign.mandatory,
    external: campaign.external,
    firstWave: campaign.first_wave,
    /** What the blast-radius policy decided at submit: the rules that applied, in words, and their effect. */
    policy: campaign.policy,
    wave: campaign.wave_size ? { size: campaign.wave_size, stage: campaign.wave_stage, continuesAt: campaign.wave_paused_until } : null,
    approvals: { required: quorum.required, approved: quorum.approvedBy.length, approvedBy: quorum.approvedBy },
    decisions: history.map((d) => ({
      approver: { id: d.approver_id, email: d.approver_email, name: d.approver_name },
      decision: d.decision,
      reason: d.reason,
      contentHash: d.content_hash,
      via: d.via,
      at: d.created_at,
      voided: d.voided_at !== null,
      voidReason: d.void_reason,
    })),
    submittedAt: campaign.submitted_at,
    quorumReachedAt: campaign.quorum_reached_at,
    scheduledFor: campaign.scheduled_for,
    startedAt: campaign.started_at,
    finishedAt: campaign.finished_at,
    haltedAt: campaign.halted_at,
    haltReason: campaign.halt_reason,
    originalCampaignId: campaign.original_campaign_id,
    correctionCampaignId: (await openCorrectionOf(ctx.db, campaign.id))?.id ?? null,
    ...(campaign.original_campaign_id ? { correctionAudience: await correctionAudience(ctx, campaign) } : {}),
    deliveries,
    createdAt: campaign.created_at,
    updatedAt: campaign.updated_at,
  };
}
