import { z } from 'zod';

export const QUEUE_NAMES = { dispatch: 'dispatch', deliver: 'deliver', notify: 'notify', retract: 'retract' } as const;

export const startJob = z.object({ campaignId: z.string().min(1), contentHash: z.string().length(64) });
export type StartJob = z.infer<typeof startJob>;

export const clearHaltJob = z.object({ campaignId: z.string().min(1) });
export type ClearHaltJob = z.infer<typeof clearHaltJob>;

export const continueJob = z.object({ campaignId: z.string().min(1) });
export type ContinueJob = z.infer<typeof continueJob>;

/** A retraction's dry run (`check`: look, touch nothing) or its real run, after its approval. */
export const retractJob = z.object({ retractionId: z.string().min(1), phase: z.enum(['check', 'run']) });
export type RetractJob = z.infer<typeof retractJob>;
export const retractJobId = (job: RetractJob) => `retract-${job.retractionId}-${job.phase}`;

export const deliverJob = z.object({
  campaignId: z.string().min(1),
  contentHash: z.string().length(64),
  fromSeq: z.number().int().min(1),
  toSeq: z.number().int().min(1),
});
export type DeliverJob = z.infer<typeof deliverJob>;

/** A staff email as it is sent. */
export const staffEmail = z.object({
  to: z.string().min(3),
  subject: z.string().min(1),
  html: z.string(),
  text: z.string(),
});
export type StaffEmail = z.infer<typeof staffEmail>;

/**
 * Emails that carry a one-time link hold no link while queued: the notify worker mints it as it
 * sends, so Redis (pending or failed jobs) never holds a usable token. An approval request is
 * rendered with `linkPlaceholder(id)` where its link goes; a sign-in email is rendered only then.
 */
export const approvalEmailJob = staffEmail.extend({ approvalLinkId: z.string().min(1) });
export type ApprovalEmailJob = z.infer<typeof approvalEmailJob>;
export const signInEmailJob = z.object({ signInRequestId: z.string().min(1) });

export const notifyJob = z.union([signInEmailJob, approvalEmailJob, staffEmail]);
export type NotifyJob = z.infer<typeof notifyJob>;

export const linkPlaceholder = (linkId: string) => `[[countersign-link:${linkId}]]`;

// BullMQ forbids ':' in custom job ids; ours are built from uuids and hex only.
export const startJobId = (campaignId: string, contentHash: string) => `start-${campaignId}-${contentHash.slice(0, 16)}`;
export const deliverJobId = (campaignId: string, contentHash: string, fromSeq: number) =>
  `deliver-${campaignId}-${contentHash.slice(0, 16)}-${fromSeq}`;
