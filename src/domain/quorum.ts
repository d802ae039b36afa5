export interface ApprovalRecord {
  approverId: string;
  contentHash: string;
  decision: 'approve' | 'reject';
  voided: boolean;
  /** The approver is active and holds the approver role now: an approval counts only while both hold. */
  approverEligible: boolean;
  approverIsAdmin: boolean;
}

export interface QuorumInput {
  requiredApprovals: number;
  contentHash: string;
  authorId: string;
  /** Everyone who wrote any version of the content: they are not independent reviewers. */
  editorIds: readonly string[];
  /** Everyone who changed the members of a list in the audience since the campaign was created: nor are they. */
  listContributorIds: readonly string[];
  approvals: readonly ApprovalRecord[];
  /** The policy asks for an admin among the approvers (a sensitive list). */
  adminApprover: boolean;
}

export interface QuorumState {
  approvedBy: string[];
  required: number;
  reached: boolean;
}

/** Counts distinct eligible approvers of exactly this content; nothing else counts. */
export function evaluateQuorum(input: QuorumInput): QuorumState {
  const approvedBy = new Set<string>();
  let byAnAdmin = false;
  for (const approval of input.approvals) {
    if (approval.voided || approval.decision !== 'approve' || !approval.approverEligible) continue;
    if (approval.contentHash !== input.contentHash) continue;
    if (isContributor(input, approval.approverId)) continue;
    approvedBy.add(approval.approverId);
    byAnAdmin ||= approval.approverIsAdmin;
  }
  return {
    approvedBy: [...approvedBy],
    required: input.requiredApprovals,
    reached: approvedBy.size >= input.requiredApprovals && (!input.adminApprover || byAnAdmin),
  };
}

export type DecisionRefusal =
  | { code: 'self_approval'; message: string }
  | { code: 'editor'; message: string }
  | { code: 'list_contributor'; message: string }
  | { code: 'duplicate'; message: string }
  | { code: 'stale_hash'; message: string };

/** Why this person may not decide on this content, or null when they may. */
export function refuseDecision(input: QuorumInput, approverId: string, reviewedHash: string): DecisionRefusal | null {
  if (reviewedHash !== input.contentHash) {
    return {
      code: 'stale_hash',
      message: 'the campaign was edited after this version was reviewed; review the current version',
    };
  }
  if (approverId === input.authorId) {
    return { code: 'self_approval', message: 'the author of a campaign cannot approve or reject it' };
  }
  if (input.editorIds.includes(approverId)) {
    return { code: 'editor', message: 'someone who edited the campaign cannot approve or reject it' };
  }
  if (input.listContributorIds.includes(approverId)) {
    return { code: 'list_contributor', message: "someone who changed a list in the campaign's audience cannot approve or reject it" };
  }
  const already = input.approvals.some((a) => !a.voided && a.approverId === approverId && a.contentHash === input.contentHash);
  if (already) {
    return { code: 'duplicate', message: 'you have already decided on this version of the campaign' };
  }
  return null;
}

export function isContributor(input: Pick<QuorumInput, 'authorId' | 'editorIds' | 'listContributorIds'>, userId: string): boolean {
  return userId === input.authorId || input.editorIds.includes(userId) || input.listContributorIds.includes(userId);
}

/** A campaign may ask for more approvals than configured, never fewer. */
export function requiredApprovals(configured: number, requested?: number | null): number {
  return Math.max(configured, requested ?? 0);
}

/** Corrections have their own quorum setting, by default the policy one, and never fewer than one approver. */
export function correctionApprovals(configured: number, configuredForCorrections: number | undefined): number {
  return Math.max(1, configuredForCorrections ?? configured);
}
