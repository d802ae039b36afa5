import { listNames } from '../db/campaigns.js';
import type { CampaignRow } from '../db/schema.js';
import { getCampaign } from './campaigns.js';
import type { AppContext } from './context.js';
import { previewDraft, type DraftPreview } from './previews.js';

/** What an author confirms before submitting: who it goes to, how many, and what would render blank. */
export interface SubmitReview {
  campaign: CampaignRow;
  /** A draft's audience is resolved now; a halted campaign resumes with the snapshot it has. */
  resuming: boolean;
  recipients: number;
  listNames: string[];
  pasted: number;
  /** For a draft: its merge fields and body checked against the audience as it is now. */
  checks: DraftPreview | null;
}

export async function submitReview(ctx: AppContext, campaignId: string): Promise<SubmitReview> {
  const campaign = await getCampaign(ctx, campaignId);
  const resuming = campaign.status === 'halted';
  const checks = resuming
    ? null
    : await previewDraft(ctx, { subject: campaign.subject, body: campaign.body_markdown, audience: campaign.audience });
  return {
    campaign,
    resuming,
    recipients: checks?.count ?? campaign.recipient_count ?? 0,
    listNames: await listNames(ctx.db, campaign.audience.listIds),
    pasted: campaign.audience.recipients.length,
    checks,
  };
}
