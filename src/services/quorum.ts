import type { Kysely } from 'kysely';
import { evaluateQuorum, type QuorumInput, type QuorumState } from '../domain/quorum.js';
import { approvalRecords } from '../db/approvals.js';
import { editorIds } from '../db/campaigns.js';
import type { CampaignRow, DB } from '../db/schema.js';

/** The quorum rule's input for the campaign's current content, read from the records. */
export async function quorumInputOf(db: Kysely<DB>, campaign: CampaignRow & { content_hash: string }): Promise<QuorumInput> {
  const [editors, approvals] = await Promise.all([editorIds(db, campaign.id), approvalRecords(db, campaign.id)]);
  return { requiredApprovals: campaign.required_approvals, contentHash: campaign.content_hash, authorId: campaign.author_id, editorIds: editors, approvals };
}

/** Who has approved exactly this content, by the one domain rule; nobody before it is frozen. */
export async function quorumOf(db: Kysely<DB>, campaign: CampaignRow): Promise<QuorumState> {
  if (!campaign.content_hash) return { approvedBy: [], required: campaign.required_approvals, reached: false };
  return evaluateQuorum(await quorumInputOf(db, { ...campaign, content_hash: campaign.content_hash }));
}
