import { z } from 'zod';
import { listApiTokens, revokeApiToken } from '../db/users.js';
import { recordEvent } from './audit.js';
import type { Actor, AppContext } from './context.js';
import { notFound, parseInput } from './errors.js';
import { issueApiToken } from './users.js';

/** A person's own API tokens, from the console: issued (the token shown once), listed, revoked. */

export const tokenLabelInput = z.object({
  label: z.string().trim().min(1, 'give the token a name, e.g. the script that will use it').max(100),
});

export function ownApiTokens(ctx: AppContext, actor: Actor) {
  return listApiTokens(ctx.db, actor.id);
}

export async function issueOwnApiToken(
  ctx: AppContext,
  actor: Actor,
  body: unknown,
): Promise<{ id: string; label: string; token: string }> {
  const { label } = parseInput(tokenLabelInput, body);
  return ctx.db.transaction().execute(async (trx) => {
    const issued = await issueApiToken(trx, actor.id, label);
    await recordEvent(trx, {
      actor: actor.email,
      action: 'token.issue',
      campaignId: null,
      data: { tokenId: issued.id, label },
      at: ctx.now(),
    });
    return { ...issued, label };
  });
}

/** Only one's own token; one already revoked, or someone else's, is not found. */
export async function revokeOwnApiToken(ctx: AppContext, actor: Actor, tokenId: string): Promise<void> {
  const own = (await listApiTokens(ctx.db, actor.id)).find((t) => t.id === tokenId && !t.revoked_at);
  if (!own) throw notFound('active token');
  await ctx.db.transaction().execute(async (trx) => {
    if (!(await revokeApiToken(trx, own.id))) throw notFound('active token');
    await recordEvent(trx, {
      actor: actor.email,
      action: 'token.revoke',
      campaignId: null,
      data: { tokenId: own.id, label: own.label },
      at: ctx.now(),
    });
  });
}
