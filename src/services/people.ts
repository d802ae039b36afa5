import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import { newUserInput, ROLES, type Role } from '../domain/inputs.js';
import { voidDecisionsBy } from '../db/approvals.js';
import { findCampaign } from '../db/campaigns.js';
import type { DB, UserRow } from '../db/schema.js';
import {
  cancelOpenGrantsFor,
  decideRoleGrant,
  findUserById,
  insertRoleGrant,
  openRoleGrants,
  revokeAccessOf,
  setDisabled,
  setRoles,
  usersWithRole,
} from '../db/users.js';
import { recordEvent } from './audit.js';
import { requireRole, type Actor, type AppContext } from './context.js';
import { queuePlainNotices } from './dispatch.js';
import { conflict, notFound, parseInput } from './errors.js';
import { autoHalt } from './halt.js';
import { quorumOf } from './quorum.js';
import { insertPerson } from './users.js';

/**
 * Admin actions on people. Roles are two-person too: nobody changes their own roles; every
 * grant of a role that can make or break a quorum (approver, admin) is audited and emailed to
 * every admin, and with ROLE_GRANTS_NEED_SECOND_ADMIN it waits for a second admin.
 */

const PRIVILEGED: readonly Role[] = ['approver', 'admin'];

export const rolesInput = z.object({ roles: z.array(z.enum(ROLES)).min(1, 'give at least one role') });

/** What an admin's request comes to: roles applied now, and privileged ones held for a second admin. */
function splitGrant(ctx: AppContext, current: readonly Role[], requested: readonly Role[]) {
  const granted = requested.filter((role) => PRIVILEGED.includes(role) && !current.includes(role));
  const held = ctx.config.ROLE_GRANTS_NEED_SECOND_ADMIN ? granted : [];
  return { applied: requested.filter((role) => !held.includes(role)), granted: granted.filter((role) => !held.includes(role)), held };
}

export async function addUserAsAdmin(ctx: AppContext, actor: Actor, input: unknown): Promise<UserRow> {
  requireRole(actor, 'admin');
  const person = parseInput(newUserInput, input);
  const { applied, granted, held } = splitGrant(ctx, [], [...new Set(person.roles)]);
  const user = await insertPerson(ctx, { email: person.email, name: person.name, roles: applied });
  await ctx.db.transaction().execute(async (trx) => {
    await recordEvent(trx, {
      actor: actor.email,
      action: 'user.add',
      campaignId: null,
      data: { userId: user.id, email: user.email, roles: applied },
      at: ctx.now(),
    });
    if (held.length) await requestGrant(ctx, trx, actor, user, held);
  });
  await tellAdmins(ctx, actor, user, granted, held);
  return user;
}

export async function changeRoles(ctx: AppContext, actor: Actor, userId: string, input: unknown): Promise<UserRow> {
  requireRole(actor, 'admin');
  const { roles } = parseInput(rolesInput, input);
  if (userId === actor.id) throw conflict('own_roles', 'nobody can change their own roles: ask another admin');
  const { user, granted, held, voided } = await ctx.db.transaction().execute(async (trx) => {
    const current = await findUserById(trx, userId);
    if (!current) throw notFound('user');
    const { applied, granted, held } = splitGrant(ctx, current.roles, [...new Set(roles)]);
    const user = (await setRoles(trx, userId, applied))!;
    const removed = current.roles.filter((role) => !applied.includes(role));
    await recordEvent(trx, {
      actor: actor.email,
      action: 'user.roles',
      campaignId: null,
      data: { userId, roles: applied, granted, removed },
      at: ctx.now(),
    });
    await cancelOpenGrantsFor(trx, userId, actor.id, ctx.now());
    if (held.length) await requestGrant(ctx, trx, actor, user, held);
    const voided = removed.includes('approver') ? await voidApprovalsOf(ctx, trx, actor, user, 'lost the approver role') : [];
    return { user, granted, held, voided };
  });
  await haltWhereQuorumLost(ctx, voided, `${user.name} lost the approver role`);
  await tellAdmins(ctx, actor, user, granted, held);
  return user;
}

export type PendingGrant = Awaited<ReturnType<typeof openRoleGrants>>[number];

export function pendingRoleGrants(ctx: AppContext): Promise<PendingGrant[]> {
  return openRoleGrants(ctx.db);
}

/** A second admin confirms a held grant: not the one who asked, and not the person it is for. */
export async function confirmRoleGrant(ctx: AppContext, actor: Actor, grantId: string): Promise<UserRow> {
  requireRole(actor, 'admin');
  const { user, roles } = await ctx.db.transaction().execute(async (trx) => {
    const grant = (await openRoleGrants(trx)).find((g) => g.id === grantId);
    if (!grant) throw notFound('open role grant');
    if (grant.requested_by === actor.id)
      throw conflict('own_roles', 'a grant needs a second admin: someone other than the admin who asked for it');
    if (grant.user_id === actor.id) throw conflict('own_roles', 'nobody can confirm a grant of their own roles');
    await decideRoleGrant(trx, grantId, actor.id, 'confirmed', ctx.now());
    const current = (await findUserById(trx, grant.user_id))!;
    const user = (await setRoles(trx, grant.user_id, [...new Set([...current.roles, ...grant.roles])]))!;
    await recordEvent(trx, {
      actor: actor.email,
      action: 'user.roles.confirmed',
      campaignId: null,
      data: { userId: user.id, granted: grant.roles, requestedBy: grant.requester_email },
      at: ctx.now(),
    });
    return { user, roles: grant.roles };
  });
  await tellAdmins(ctx, actor, user, roles, []);
  return user;
}

export async function cancelRoleGrant(ctx: AppContext, actor: Actor, grantId: string): Promise<void> {
  requireRole(actor, 'admin');
  await ctx.db.transaction().execute(async (trx) => {
    const grant = await decideRoleGrant(trx, grantId, actor.id, 'cancelled', ctx.now());
    if (!grant) throw notFound('open role grant');
    await recordEvent(trx, {
      actor: actor.email,
      action: 'user.roles.cancelled',
      campaignId: null,
      data: { userId: grant.user_id, roles: grant.roles },
      at: ctx.now(),
    });
  });
}

/** Ends a person's access at once (sessions and tokens), and voids their approvals of campaigns not yet sending. */
export async function deactivateUser(ctx: AppContext, actor: Actor, userId: string): Promise<UserRow> {
  requireRole(actor, 'admin');
  if (userId === actor.id) throw conflict('own_roles', 'nobody can deactivate themselves: ask another admin');
  const now = ctx.now();
  const { user, voided } = await ctx.db.transaction().execute(async (trx) => {
    const user = await setDisabled(trx, userId, now);
    if (!user) throw notFound('user');
    await revokeAccessOf(trx, userId, now);
    await cancelOpenGrantsFor(trx, userId, actor.id, now);
    await recordEvent(trx, {
      actor: actor.email,
      action: 'user.deactivate',
      campaignId: null,
      data: { userId, email: user.email },
      at: now,
    });
    return { user, voided: await voidApprovalsOf(ctx, trx, actor, user, 'was deactivated') };
  });
  await haltWhereQuorumLost(ctx, voided, `${user.name} was deactivated`);
  return user;
}

export async function reactivateUser(ctx: AppContext, actor: Actor, userId: string): Promise<UserRow> {
  requireRole(actor, 'admin');
  if (userId === actor.id) throw conflict('own_roles', 'nobody can reactivate themselves');
  return ctx.db.transaction().execute(async (trx) => {
    const user = await setDisabled(trx, userId, null);
    if (!user) throw notFound('user');
    await recordEvent(trx, {
      actor: actor.email,
      action: 'user.reactivate',
      campaignId: null,
      data: { userId, email: user.email },
      at: ctx.now(),
    });
    return user;
  });
}

async function requestGrant(ctx: AppContext, trx: Transaction<DB>, actor: Actor, user: UserRow, roles: Role[]): Promise<void> {
  await insertRoleGrant(trx, { id: randomUUID(), userId: user.id, roles, requestedBy: actor.id });
  await recordEvent(trx, {
    actor: actor.email,
    action: 'user.roles.requested',
    campaignId: null,
    data: { userId: user.id, roles },
    at: ctx.now(),
  });
}

/** Their approvals of campaigns not yet sending stop counting; returns the campaigns touched. */
async function voidApprovalsOf(ctx: AppContext, trx: Transaction<DB>, actor: Actor, user: UserRow, why: string): Promise<string[]> {
  const campaignIds = await voidDecisionsBy(trx, user.id);
  for (const campaignId of campaignIds) {
    await recordEvent(trx, {
      actor: actor.email,
      action: 'approvals.void',
      campaignId,
      data: { approverId: user.id, reason: `${user.email} ${why}` },
      at: ctx.now(),
    });
  }
  return campaignIds;
}

/** A scheduled campaign that no longer has its quorum must not start: halt it, and tell its people. */
async function haltWhereQuorumLost(ctx: AppContext, campaignIds: string[], why: string): Promise<void> {
  for (const id of campaignIds) {
    const campaign = await findCampaign(ctx.db, id);
    if (campaign?.status === 'scheduled' && !(await quorumOf(ctx.db, campaign)).reached) {
      await autoHalt(ctx, id, `its approvals no longer make a quorum: ${why}`, ['scheduled']);
    }
  }
}

/** Every active admin hears of every grant of approver or admin, and of every grant waiting for them. */
async function tellAdmins(ctx: AppContext, actor: Actor, user: UserRow, granted: readonly Role[], held: readonly Role[]): Promise<void> {
  if (granted.length === 0 && held.length === 0) return;
  const adminUrl = new URL('/admin', ctx.config.PUBLIC_URL).toString();
  const lines = [
    granted.length ? `${actor.name} <${actor.email}> gave ${user.name} <${user.email}> the role(s): ${granted.join(', ')}.` : '',
    held.length
      ? `${actor.name} <${actor.email}> asks to give ${user.name} <${user.email}> the role(s): ${held.join(', ')}. A second admin must confirm it.`
      : '',
    `If this is not expected, review it now: ${adminUrl}`,
  ].filter(Boolean);
  const text = lines.join('\n\n');
  const subject = held.length
    ? `Role grant waiting for a second admin: ${user.email}`
    : `Role granted: ${user.email} is now ${granted.join(' and ')}`;
  const admins = await usersWithRole(ctx.db, 'admin');
  await queuePlainNotices(
    ctx,
    admins.map((admin) => admin.email),
    subject,
    text,
  );
}
