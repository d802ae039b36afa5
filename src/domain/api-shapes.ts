import { z } from 'zod';
import { VOID_REASONS } from './approval-wording.js';
import { CAMPAIGN_STATUSES } from './campaign-state.js';
import { DELIVERY_STATUSES } from './delivery.js';
import { firstWaveSpec, ROLES } from './inputs.js';
import { DRY_RUN_OUTCOMES, RETRACTION_ITEM_STATUSES, RETRACTION_STATUSES } from './retraction.js';

/**
 * What the API answers, defined once: the services' return types come from these, and the OpenAPI
 * document (`src/http/openapi.ts`) is generated from them. Every name is camelCase. A timestamp is a
 * Date here and an ISO 8601 string on the wire (JSON.stringify; the document says `date-time`).
 */
const timestamp = z.date();
const counts = (keys: readonly string[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])));

export const meView = z.object({ id: z.string(), email: z.string(), name: z.string(), roles: z.array(z.enum(ROLES)) });

export const listView = z.object({ id: z.string(), name: z.string(), createdBy: z.string(), createdAt: timestamp });
export type ListView = z.infer<typeof listView>;
export const listSummary = z.object({ id: z.string(), name: z.string(), createdAt: timestamp, memberCount: z.number().int() });
export type ListSummary = z.infer<typeof listSummary>;
export const listsView = z.object({ lists: z.array(listSummary) });
export const memberView = z.object({ email: z.string(), name: z.string(), fields: z.record(z.string(), z.string()) });
export const membersView = z.object({ members: z.array(memberView) });
export const importReport = z.object({
  listId: z.string(),
  imported: z.number().int(),
  mergedDuplicates: z.number().int(),
  memberCount: z.number().int(),
});
export type ImportReport = z.infer<typeof importReport>;

const deliveryCounts = counts(DELIVERY_STATUSES);
const audienceView = z.object({
  listIds: z.array(z.string()),
  recipients: z.array(z.object({ email: z.string(), name: z.string(), fields: z.record(z.string(), z.string()) })),
});
const policyDecision = z.object({
  applied: z.array(z.string()).describe('each rule that applied, in words'),
  requiredApprovals: z.number().int(),
  adminApprover: z.boolean(),
  holdMinutes: z.number(),
  firstWave: firstWaveSpec.nullable(),
  quietHours: z.record(z.string(), z.unknown()).nullable(),
});

export const campaignView = z.object({
  id: z.string(),
  kind: z.enum(['policy', 'correction']),
  status: z.enum(CAMPAIGN_STATUSES),
  subject: z.string(),
  body: z.string().describe('Markdown'),
  fromAddress: z.string(),
  fromName: z.string(),
  audience: audienceView,
  sendAt: timestamp.nullable(),
  authorId: z.string(),
  contentHash: z.string().nullable().describe('SHA-256 of the frozen content, set on submit; approvals name it'),
  recipientCount: z.number().int().nullable(),
  skipped: z.number().int().nullable().describe('of recipientCount, suppressed when the audience was frozen'),
  mandatory: z.boolean(),
  external: z.boolean(),
  firstWave: firstWaveSpec.nullable(),
  policy: policyDecision.nullable().describe('what the blast-radius policy decided at submit'),
  wave: z
    .object({ size: z.number().int(), stage: z.enum(['first', 'paused', 'rest']).nullable(), continuesAt: timestamp.nullable() })
    .nullable(),
  approvals: z.object({ required: z.number().int(), approved: z.number().int(), approvedBy: z.array(z.string()) }),
  decisions: z.array(
    z.object({
      approver: z.object({ id: z.string(), email: z.string(), name: z.string() }),
      decision: z.enum(['approve', 'reject']),
      reason: z.string().nullable(),
      contentHash: z.string(),
      via: z.enum(['api', 'link']),
      at: timestamp,
      voided: z.boolean(),
      voidReason: z
        .enum(VOID_REASONS)
        .nullable()
        .describe('why it stopped counting; null while it counts, or if voided before reasons were kept'),
    }),
  ),
  submittedAt: timestamp.nullable(),
  quorumReachedAt: timestamp.nullable(),
  scheduledFor: timestamp.nullable(),
  startedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
  haltedAt: timestamp.nullable(),
  haltReason: z.string().nullable(),
  originalCampaignId: z.string().nullable(),
  correctionCampaignId: z.string().nullable(),
  correctionAudience: z
    .object({ receivedOriginal: z.number().int(), originalInFlight: z.number().int(), willReach: z.number().int() })
    .optional(),
  deliveries: deliveryCounts,
  createdAt: timestamp,
  updatedAt: timestamp,
});
export type CampaignView = z.infer<typeof campaignView>;
export const campaignsView = z.object({ campaigns: z.array(campaignView) });

export const haltReport = z.object({
  campaignId: z.string(),
  status: z.literal('halted'),
  inFlight: z.number().int().describe('already inside an SMTP transaction when the halt committed: these may still arrive'),
  stopped: z.number().int().describe('never handed to SMTP'),
});
export type HaltReport = z.infer<typeof haltReport>;
export const recallReport = z.object({
  halt: haltReport.nullable(),
  correction: campaignView,
  original: z.object({ sent: z.number().int(), unknown: z.number().int(), inFlight: z.number().int() }),
  correctionAudience: z.number().int(),
  retraction: z
    .object({ id: z.string(), items: z.number().int() })
    .nullable()
    .describe('asked for with `retract: true`: its dry run starts at once'),
});

/** Counts with every key named in the type too, for the views that read them one by one. */
const countsOf = <K extends string>(keys: readonly K[]) =>
  z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])) as Record<K, z.ZodNumber>);

export const retractionView = z.object({
  id: z.string(),
  campaignId: z.string().describe('the original campaign, whose messages it removes'),
  correctionId: z.string(),
  status: z.enum(RETRACTION_STATUSES),
  backend: z.string().describe('the mail system it acts through, e.g. `imap mail.example.com`'),
  items: z.number().int().describe('recipients the ledger says may have the original'),
  dryRun: countsOf(DRY_RUN_OUTCOMES).describe('what the dry run found, per outcome'),
  outcomes: countsOf(RETRACTION_ITEM_STATUSES).describe('its ledger, per status'),
  approvals: z.array(z.object({ email: z.string(), at: timestamp })),
  quorum: z.object({ required: z.number().int(), approvers: z.number().int(), admin: z.boolean(), missing: z.array(z.string()) }),
  requestedBy: z.string(),
  createdAt: timestamp,
  haltReason: z.string().nullable(),
});
export const retractionItemView = z.object({
  seq: z.number().int().describe("the original delivery's seq"),
  email: z.string(),
  messageId: z.string().nullable().describe('the Message-ID the ledger recorded: the only message that may be touched'),
  dryRun: z.enum(DRY_RUN_OUTCOMES).nullable(),
  dryRunResponse: z.string().nullable(),
  status: z.enum(RETRACTION_ITEM_STATUSES),
  response: z.string().nullable().describe('what the server said, or why nothing was done'),
  attempts: z.number().int(),
  finishedAt: timestamp.nullable(),
});
export type RetractionItemView = z.infer<typeof retractionItemView>;
export const retractionItemsView = z.object({
  items: z.array(retractionItemView),
  next: z.number().int().nullable().describe('pass as `after` for the next page; null on the last'),
});
export const retractionHaltReport = z.object({
  status: z.literal('halted'),
  inFlight: z.number().int().describe('mailboxes being worked on when it halted: they finish and say so'),
  stopped: z.number().int().describe('mailboxes it will not touch'),
});
export const testSendReport = z.object({ sentTo: z.string(), renderedFor: z.string() });
export type TestSendReport = z.infer<typeof testSendReport>;
export const killSwitchView = z.object({ engaged: z.boolean(), by: z.string().optional(), at: z.string().optional() });
export const haltAllReport = z.object({ engaged: z.literal(true), campaigns: z.array(haltReport) });
export const resumeAllReport = z.object({ engaged: z.literal(false) });

export const suppressionView = z.object({
  email: z.string(),
  kind: z.enum(['left', 'opted_out']),
  reason: z.string(),
  addedBy: z.string(),
  addedAt: timestamp,
});
export type SuppressionView = z.infer<typeof suppressionView>;
export const suppressionsView = z.object({ suppressions: z.array(suppressionView) });
export const suppressionImportReport = z.object({ imported: z.number().int() });

export const deliveryView = z.object({
  seq: z.number().int(),
  email: z.string(),
  name: z.string(),
  status: z.enum(DELIVERY_STATUSES),
  messageId: z.string().nullable(),
  attempts: z.number().int(),
  smtpResponse: z.string().nullable().describe("the server's reply"),
  claimedAt: timestamp.nullable(),
  finishedAt: timestamp.nullable(),
});
export type DeliveryView = z.infer<typeof deliveryView>;
export const deliveriesView = z.object({
  deliveries: z.array(deliveryView),
  next: z.number().int().nullable().describe('pass as `after` for the next page; null on the last'),
});

export const auditEventView = z.object({
  id: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  campaignId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  prevHash: z.string(),
  hash: z.string(),
});
export const auditEventsView = z.object({ events: z.array(auditEventView) });
export const auditReportView = z.object({
  ok: z.boolean(),
  count: z.number().int(),
  last: z.object({ id: z.number().int(), hash: z.string() }).nullable(),
  brokenAt: z.number().int().optional(),
  reason: z.string().optional(),
  checkpoint: z.object({ name: z.string(), at: z.string(), lastId: z.number().int(), count: z.number().int() }).nullable(),
  problems: z.array(
    z.object({
      kind: z.enum(['broken', 'rewritten', 'truncated', 'bad_checkpoint']),
      eventId: z.number().int().optional(),
      checkpoint: z.string().optional(),
      message: z.string(),
    }),
  ),
});
