import { sha256Hex } from '../domain/canonical.js';
import { lastAuditEvent } from '../db/audit.js';
import { recordEvent } from './audit.js';
import { SYSTEM_ACTOR, type AppContext } from './context.js';

/**
 * A process that starts with another policy than the last one records it in the audit chain:
 * who could send what, with how many approvers, is part of the history.
 */
export async function recordPolicyChange(ctx: AppContext, source: string): Promise<boolean> {
  const digest = sha256Hex(source);
  const last = await lastAuditEvent(ctx.db, 'policy.change');
  // Two processes starting at once with a new policy may both record it: a repeat, never a gap.
  if ((last?.data as { digest?: string } | undefined)?.digest === digest) return false;
  await ctx.db.transaction().execute(async (trx) => {
    await recordEvent(trx, {
      actor: SYSTEM_ACTOR,
      action: 'policy.change',
      campaignId: null,
      data: { digest, file: ctx.config.POLICY_FILE ?? null, policy: ctx.policy },
      at: ctx.now(),
    });
  });
  return true;
}
