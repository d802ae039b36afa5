import type { Kysely } from 'kysely';
import type { VoidReason } from '../domain/approval-wording.js';
import type { ApprovalRecord } from '../domain/quorum.js';
import type { DB } from './schema.js';

export async function insertDecision(
  db: Kysely<DB>,
  decision: {
    id: string;
    campaignId: string;
    approverId: string;
    contentHash: string;
    decision: 'approve' | 'reject';
    reason: string | null;
    via: 'api' | 'link';
  },
): Promise<void> {
  await db
    .insertInto('approvals')
    .values({
      id: decision.id,
      campaign_id: decision.campaignId,
      approver_id: decision.approverId,
      content_hash: decision.contentHash,
      decision: decision.decision,
      reason: decision.reason,
      via: decision.via,
    })
    .execute();
}

/** Every decision on a campaign, with whether its approver is still active and still holds the approver role. */
export async function approvalRecords(db: Kysely<DB>, campaignId: string): Promise<ApprovalRecord[]> {
  const rows = await db
    .selectFrom('approvals')
    .innerJoin('users', 'users.id', 'approvals.approver_id')
    .select([
      'approvals.approver_id',
      'approvals.content_hash',
      'approvals.decision',
      'approvals.voided_at',
      'users.disabled_at',
      'users.roles',
    ])
    .where('approvals.campaign_id', '=', campaignId)
    .execute();
  return rows.map((r) => ({
    approverId: r.approver_id,
    contentHash: r.content_hash,
    decision: r.decision,
    voided: r.voided_at !== null,
    approverEligible: r.disabled_at === null && r.roles.includes('approver'),
    approverIsAdmin: r.roles.includes('admin'),
  }));
}

/** Voids one approver's live decisions on campaigns that have not started sending; returns those campaigns. */
export async function voidDecisionsBy(db: Kysely<DB>, approverId: string): Promise<string[]> {
  const rows = await db
    .updateTable('approvals')
    .set({ voided_at: new Date(), void_reason: 'approver_removed' satisfies VoidReason })
    .where('approver_id', '=', approverId)
    .where('voided_at', 'is', null)
    .where('campaign_id', 'in', (eb) => eb.selectFrom('campaigns').select('id').where('status', 'in', ['pending_approval', 'scheduled']))
    .returning('campaign_id')
    .execute();
  return [...new Set(rows.map((r) => r.campaign_id))];
}

/** Every decision ever taken, voided ones included: the history stays. */
export function approvalHistory(db: Kysely<DB>, campaignId: string) {
  return db
    .selectFrom('approvals')
    .innerJoin('users', 'users.id', 'approvals.approver_id')
    .select([
      'approvals.id',
      'approvals.decision',
      'approvals.reason',
      'approvals.content_hash',
      'approvals.via',
      'approvals.created_at',
      'approvals.voided_at',
      'approvals.void_reason',
      'users.id as approver_id',
      'users.email as approver_email',
      'users.name as approver_name',
    ])
    .where('approvals.campaign_id', '=', campaignId)
    .orderBy('approvals.created_at')
    .execute();
}

export async function voidDecisions(db: Kysely<DB>, campaignId: string, reason: VoidReason): Promise<number> {
  const result = await db
    .updateTable('approvals')
    .set({ voided_at: new Date(), void_reason: reason })
    .where('campaign_id', '=', campaignId)
    .where('voided_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function insertLinks(
  db: Kysely<DB>,
  links: { id: string; campaignId: string; approverId: string; contentHash: string; tokenHash: string; expiresAt: Date; createdAt: Date }[],
): Promise<void> {
  if (links.length === 0) return;
  await db
    .insertInto('approval_links')
    .values(
      links.map((l) => ({
        id: l.id,
        campaign_id: l.campaignId,
        approver_id: l.approverId,
        content_hash: l.contentHash,
        token_hash: l.tokenHash,
        expires_at: l.expiresAt,
        created_at: l.createdAt,
      })),
    )
    .execute();
}

export function findLinkByTokenHash(db: Kysely<DB>, tokenHash: string) {
  return db.selectFrom('approval_links').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
}

/** The token of the email being sent now (a retried send replaces it); false once the link is used. */
export async function setLinkTokenHash(db: Kysely<DB>, linkId: string, tokenHash: string): Promise<boolean> {
  const result = await db
    .updateTable('approval_links')
    .set({ token_hash: tokenHash })
    .where('id', '=', linkId)
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Atomic: of two concurrent POSTs with one link, exactly one gets the row back. */
export async function consumeLink(db: Kysely<DB>, linkId: string, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('approval_links')
    .set({ consumed_at: now })
    .where('id', '=', linkId)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function recordLinkOpening(
  db: Kysely<DB>,
  opening: { linkId: string; method: string; ip: string; userAgent: string },
): Promise<void> {
  await db
    .insertInto('approval_link_openings')
    .values({ link_id: opening.linkId, method: opening.method, ip: opening.ip, user_agent: opening.userAgent })
    .execute();
}

export function linkOpenings(db: Kysely<DB>, campaignId: string) {
  return db
    .selectFrom('approval_link_openings')
    .innerJoin('approval_links', 'approval_links.id', 'approval_link_openings.link_id')
    .select([
      'approval_link_openings.opened_at',
      'approval_link_openings.method',
      'approval_link_openings.ip',
      'approval_link_openings.user_agent',
      'approval_links.approver_id',
    ])
    .where('approval_links.campaign_id', '=', campaignId)
    .orderBy('approval_link_openings.opened_at')
    .execute();
}

/**
 * Review links still waiting for a decision since before `issuedBefore`, not yet followed by a
 * reminder, on the campaign's current version, for approvers who are still active approvers.
 */
export function linksDueForReminder(db: Kysely<DB>, issuedBefore: Date) {
  return db
    .selectFrom('approval_links as l')
    .innerJoin('campaigns as c', 'c.id', 'l.campaign_id')
    .innerJoin('users as u', 'u.id', 'l.approver_id')
    .select(['l.id as link_id', 'l.campaign_id', 'l.approver_id'])
    .where('l.consumed_at', 'is', null)
    .where('l.reminded_at', 'is', null)
    .where('l.created_at', '<=', issuedBefore)
    .where('c.status', '=', 'pending_approval')
    .whereRef('c.content_hash', '=', 'l.content_hash')
    .where('u.disabled_at', 'is', null)
    .where((eb) => eb(eb.val('approver'), '=', eb.fn.any('u.roles')))
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('approvals as a')
            .select('a.id')
            .whereRef('a.campaign_id', '=', 'l.campaign_id')
            .whereRef('a.approver_id', '=', 'l.approver_id')
            .whereRef('a.content_hash', '=', 'l.content_hash'),
        ),
      ),
    )
    .execute();
}

export async function markReminded(db: Kysely<DB>, linkId: string, at: Date): Promise<boolean> {
  const result = await db
    .updateTable('approval_links')
    .set({ reminded_at: at })
    .where('id', '=', linkId)
    .where('reminded_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
