import { z } from 'zod';

export const QUEUE_NAMES = { dispatch: 'dispatch', deliver: 'deliver', notify: 'notify' } as const;

export const startJob = z.object({ campaignId: z.string().min(1), contentHash: z.string().length(64) });
export type StartJob = z.infer<typeof startJob>;

export const clearHaltJob = z.object({ campaignId: z.string().min(1) });
export type ClearHaltJob = z.infer<typeof clearHaltJob>;

export const continueJob = z.object({ campaignId: z.string().min(1) });
export type ContinueJob = z.infer<typeof continueJob>;

export const deliverJob = z.object({
  campaignId: z.string().min(1),
  contentHash: z.string().length(64),
  fromSeq: z.number().int().min(1),
  toSeq: z.number().int().min(1),
});
export type DeliverJob = z.infer<typeof deliverJob>;

export const notifyJob = z.object({
  to: z.string().min(3),
  subject: z.string().min(1),
  html: z.string(),
  text: z.string(),
});
export type NotifyJob = z.infer<typeof notifyJob>;

// BullMQ forbids ':' in custom job ids; ours are built from uuids and hex only.
export const startJobId = (campaignId: string, contentHash: string) => `start-${campaignId}-${contentHash.slice(0, 16)}`;
export const deliverJobId = (campaignId: string, contentHash: string, fromSeq: number) =>
  `deliver-${campaignId}-${contentHash.slice(0, 16)}-${fromSeq}`;
