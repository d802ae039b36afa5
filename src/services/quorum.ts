import type { Kysely } from 'kysely';
import { evaluateQuorum, type QuorumInput, type QuorumState } from '../domain/quorum.js';
import { approvalRecords } from '../db/approvals.js';
import { editorIds } from '../db/campaigns.js';
import { listChangesSince } from '../db/lists.js';
import type { CampaignRow, DB } from '../db/schema.js';
import { findUserById } from '../db/users.js';

/** Who changed a list of the audience since the campaign was created, with which list (a correction's audience is a ledger: none). */
export function listContributions(db: Kysely<DB>, campaign: CampaignRow) {
  return listChangesSince(db, campaign.audience.listIds, campaign.created_at);
}

/** The quorum rule's input for the campaign's current content, read from the records. */
export async function quorumInputOf(db: Kysely<DB>, campaign: CampaignRow & { content_hash: string }): Promise<QuorumInput> {
  const [editors, approvals, changes] = await Promise.all([
    editorIds(db, campaign.id),
    approvalRecords(db, campaign.id),
    listContributions(db, campaign),
  ]);
  return {
    requiredApprovals: campaign.required_approvals,
    contentHash: campaign.content_hash,
    authorId: campaign.author_id,
    editorIds: editors,
    listContributorIds: [...new Set(changes.map((c) => c.user_id))],
    approvals,
    adminApprover: campaign.policy?.adminApprover ?? false,
  };
}

/**
 * Who has approved exactly this content, by the one domain rule; nobody before it is frozen.
 * Approvers' roles are checked as they stand now (`current`), except mid-send (`as_approved`):
 * a role change is checked when quorum is reached and when sending starts, and does not stop
 * a send already under way — a halt does that.
 */
export async function quorumOf(db: Kysely<DB>, campaign: CampaignRow, roles: 'current' | 'as_approved' = 'current'): Promise<QuorumState> {
  if (!campaign.content_hash) return { approvedBy: [], required: campaign.required_approvals, reached: false };
  const input = await quorumInputOf(db, { ...campaign, content_hash: campaign.content_hash });
  if (roles === 'as_approved') input.approvals = input.approvals.map((a) => ({ ...a, approverEligible: true }));
  return evaluateQuorum(input);
}

/** The people who shaped a campaign, by name, for the approval email and page. */
export async function contributorsOf(db: Kysely<DB>, campaign: CampaignRow): Promise<Contributors> {
  const [author, editors, changes] = await Promise.all([
    findUserById(db, campaign.author_id),
    editorIds(db, campaign.id),
    listContributions(db, campaign),
  ]);
  const editorNames = await Promise.all(
    editors.filter((id) => id !== campaign.author_id).map(async (id) => (await findUserById(db, id))?.name ?? id),
  );
  return {
    author: author?.name ?? 'unknown',
    editors: editorNames.sort(),
    listChanges: changes.map((c) => ({ list: c.list_name, by: c.user_name })),
  };
}

export interface Contributors {
  author: string;
  editors: string[];
  listChanges: { list: string; by: string }[];
}
