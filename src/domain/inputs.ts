import { z } from 'zod';
import { emailAddress, headerText } from './addresses.js';
import { CAMPAIGN_STATUSES } from './campaign-state.js';
import { DELIVERY_STATUSES } from './delivery.js';

export const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, 'must be a letter then letters, digits or _');

export const recipientInput = z
  .object({
    email: emailAddress,
    name: headerText(200).default(''),
    fields: z.record(fieldName, z.string().max(2000)).default({}),
  })
  .strict();
export type RecipientInput = z.infer<typeof recipientInput>;

/** Someone who must not get mail: `left` the organisation (never), or `opted_out` (no mail that is not mandatory). */
export const suppressionInput = z
  .object({
    email: emailAddress,
    kind: z.enum(['left', 'opted_out']),
    reason: z.string().trim().min(1, 'say why').max(500),
  })
  .strict();
export type SuppressionInput = z.infer<typeof suppressionInput>;

const explicitRecipients = z
  .array(recipientInput)
  .max(5000)
  .superRefine((recipients, ctx) => {
    const seen = new Set<string>();
    recipients.forEach((r, index) => {
      if (seen.has(r.email)) {
        ctx.addIssue({ code: 'custom', path: [index, 'email'], message: `duplicate address ${r.email}` });
      }
      seen.add(r.email);
    });
  });

export const audienceInput = z
  .object({
    listIds: z.array(z.string().min(1)).max(50).default([]),
    recipients: explicitRecipients.default([]),
  })
  .strict();

export const firstWaveSpec = z
  .object({
    share: z.number().gt(0).lt(1).optional(),
    count: z.number().int().min(1).optional(),
    /** Lists whose members (within the audience) go in the first wave whatever the sample. */
    seedListIds: z.array(z.string().min(1)).max(10).default([]),
  })
  .strict()
  .refine((wave) => wave.share !== undefined || wave.count !== undefined || wave.seedListIds.length > 0, {
    message: 'give a share, a count or seed lists',
  });
export type FirstWaveSpec = z.infer<typeof firstWaveSpec>;

const campaignFields = {
  subject: headerText(250).pipe(z.string().trim().min(1, 'must not be empty')),
  body: z.string().min(1, 'must not be empty').max(200_000),
  fromAddress: emailAddress.optional(),
  fromName: headerText(120).optional(),
  audience: audienceInput,
  sendAt: z.iso.datetime({ offset: true }).nullable().optional(),
  requiredApprovals: z.number().int().min(1).max(20).optional(),
  /** Mandatory mail reaches people who opted out of other mail (never people who left). */
  mandatory: z.boolean().optional(),
  /** Meant for recipients outside the organisation, where the policy asks campaigns to say so. */
  external: z.boolean().optional(),
  /** Send first to a first wave, then pause before the rest; null to send to everyone at once. */
  firstWave: firstWaveSpec.nullable().optional(),
};

export const createCampaignInput = z.object(campaignFields).strict();
export type CreateCampaignInput = z.infer<typeof createCampaignInput>;

export const editCampaignInput = z
  .object(campaignFields)
  .partial()
  .strict()
  .refine((value) => Object.keys(value).length > 0, { message: 'nothing to change' });
export type EditCampaignInput = z.infer<typeof editCampaignInput>;

export const rejectInput = z.object({ reason: z.string().trim().min(1, 'a rejection needs a reason').max(2000) }).strict();

export const linkDecisionInput = z.object({
  decision: z.enum(['approve', 'reject']),
  recipientCount: z.string().trim().optional(),
  reason: z.string().trim().max(2000).optional(),
});

/** Largest offset or position a page may start from: PostgreSQL's integer, so a larger number is bad input, not a failed query. */
export const MAX_PAGE_POSITION = 2_147_483_647;
export const pagePosition = z.coerce.number().int().min(0).max(MAX_PAGE_POSITION);

export const ROLES = ['author', 'approver', 'admin'] as const;
export type Role = (typeof ROLES)[number];
export const newUserInput = z
  .object({
    email: emailAddress,
    name: headerText(200).pipe(z.string().trim().min(1, 'must not be empty')),
    roles: z.array(z.enum(ROLES)).min(1, 'give at least one role'),
  })
  .strict();
export type NewUserInput = z.infer<typeof newUserInput>;

export const newListInput = z.object({ name: z.string().trim().min(1).max(200) }).strict();

const paging = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  offset: pagePosition.default(0),
});
export const membersQuery = paging.extend({ q: z.string().max(200).optional() });
export const campaignsQuery = paging.extend({
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  kind: z.enum(['policy', 'correction']).optional(),
  author: z.string().max(100).optional().describe("the author's user id"),
  q: z.string().trim().max(200).optional().describe('part of the subject, any case'),
});
export const deliveriesQuery = z.object({
  status: z.enum(DELIVERY_STATUSES).optional(),
  after: pagePosition.default(0).describe("the seq to continue after: the previous page's `next`"),
  limit: z.coerce.number().int().min(1).max(5000).default(500),
  format: z.enum(['json', 'csv']).default('json'),
});
export const haltInput = z.object({ reason: z.string().trim().min(1).max(2000).optional() });
