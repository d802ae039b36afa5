import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { emailAddress } from '../domain/addresses.js';
import { consumeSignInLink, findSession, findSignInLink, insertSession, insertSignInLink, revokeSession } from '../db/sessions.js';
import { findUserByEmail } from '../db/users.js';
import { template } from '../mail/templates.js';
import type { Actor, AppContext } from './context.js';
import { AppError, parseInput, type ErrorCode } from './errors.js';
import { queueNotifications } from './dispatch.js';
import { hashToken, newSecretToken } from './users.js';

const SIGN_IN_LINK_TTL_MS = 15 * 60_000;
const SESSION_TTL_MS = 12 * 3600_000;
// Per address a person needs a few tries; per IP allows for an office behind one NAT address.
const SIGN_IN_LIMITS = { email: 5, ip: 100 } as const;
const SIGN_IN_WINDOW_SECONDS = 15 * 60;

export const signInRequest = z.object({ email: emailAddress, returnTo: z.string().optional() });

/** Only paths on this site: a sign-in link must never bounce someone to another origin. */
export function safeReturnTo(value: string | undefined): string {
  return value && /^\/(?!\/)[\w\-./?=&%]*$/.test(value) ? value : '/';
}

/** Counts requests per key in Redis; shared by every API process. */
async function rateLimited(ctx: AppContext, kind: keyof typeof SIGN_IN_LIMITS, value: string): Promise<boolean> {
  const redisKey = `${ctx.queues.prefix}:signin:${kind}:${value}`;
  const count = await ctx.queues.redis.incr(redisKey);
  if (count === 1) await ctx.queues.redis.expire(redisKey, SIGN_IN_WINDOW_SECONDS);
  return count > SIGN_IN_LIMITS[kind];
}

/**
 * Emails a sign-in link when the address is a user; answers the same either way, so the
 * form does not reveal who has an account. `browserNonce` comes from a cookie set on this
 * browser now: the link only works where it was asked for.
 */
export async function requestSignIn(ctx: AppContext, body: unknown, request: { ip: string; browserNonce: string }): Promise<void> {
  const input = parseInput(signInRequest, body);
  if ((await rateLimited(ctx, 'ip', request.ip)) || (await rateLimited(ctx, 'email', input.email))) {
    throw new AppError(429, 'rate_limited', 'Too many sign-in requests. Wait a few minutes and try again.');
  }
  const user = await findUserByEmail(ctx.db, input.email);
  if (!user || user.disabled_at) return;
  const token = newSecretToken();
  const expiresAt = new Date(ctx.now().getTime() + SIGN_IN_LINK_TTL_MS);
  await insertSignInLink(ctx.db, { id: randomUUID(), userId: user.id, tokenHash: hashToken(token), browserHash: hashToken(request.browserNonce), returnTo: safeReturnTo(input.returnTo), expiresAt });
  const values = { name: user.name, url: new URL(`/sign-in/${token}`, ctx.config.PUBLIC_URL).toString(), expiresAt: expiresAt.toUTCString() };
  await queueNotifications(ctx, [
    {
      to: user.email,
      subject: 'Your Countersign sign-in link',
      html: template('layout.html').render({ subject: 'Sign in to Countersign', preheader: 'Your sign-in link', content: template('sign-in.html').render(values), footer: 'Sent because someone asked to sign in with this address.' }),
      text: template('sign-in.txt').render(values),
    },
  ]);
}

export type SignInLinkState = 'valid' | 'invalid' | 'used' | 'expired' | 'other_browser';

export async function signInLinkState(ctx: AppContext, token: string, browserNonce: string | undefined): Promise<SignInLinkState> {
  const link = await findSignInLink(ctx.db, hashToken(token));
  if (!link) return 'invalid';
  if (link.consumed_at) return 'used';
  if (link.expires_at.getTime() <= ctx.now().getTime()) return 'expired';
  if (!browserNonce || hashToken(browserNonce) !== link.browser_hash) return 'other_browser';
  return 'valid';
}

/** The deciding POST: consumes the link only from the browser that asked, and starts a session. */
export async function completeSignIn(ctx: AppContext, token: string, browserNonce: string | undefined): Promise<{ sessionToken: string; returnTo: string }> {
  const link = await findSignInLink(ctx.db, hashToken(token));
  const state = await signInLinkState(ctx, token, browserNonce);
  if (!link || state !== 'valid' || !(await consumeSignInLink(ctx.db, link.id, hashToken(browserNonce!), ctx.now()))) {
    // Valid a moment ago but not consumable now: another request used it first.
    const refused = state === 'valid' ? 'used' : state;
    throw new AppError(403, SIGN_IN_REFUSALS[refused], `this sign-in link cannot be used: it is ${refused.replace('_', ' ')}`);
  }
  return { sessionToken: await startSession(ctx, link.user_id), returnTo: link.return_to };
}

export async function startSession(ctx: AppContext, userId: string): Promise<string> {
  const sessionToken = newSecretToken();
  await insertSession(ctx.db, {
    id: randomUUID(),
    userId,
    tokenHash: hashToken(sessionToken),
    csrfToken: newSecretToken(),
    expiresAt: new Date(ctx.now().getTime() + SESSION_TTL_MS),
  });
  return sessionToken;
}

/** Behind a trusted SSO proxy: a session for the person the proxy names, refused when they are not a user. */
export async function startSsoSession(ctx: AppContext, email: string): Promise<string> {
  const user = await findUserByEmail(ctx.db, email);
  if (!user || user.disabled_at) throw new AppError(403, 'forbidden', `${email} is not a Countersign user`);
  return startSession(ctx, user.id);
}

export interface WebSession {
  id: string;
  csrfToken: string;
  actor: Actor;
}

export async function resolveSession(ctx: AppContext, sessionToken: string | undefined): Promise<WebSession | null> {
  if (!sessionToken) return null;
  const row = await findSession(ctx.db, hashToken(sessionToken), ctx.now());
  if (!row) return null;
  return { id: row.session_id, csrfToken: row.csrf_token, actor: { id: row.id, email: row.email, name: row.name, roles: row.roles } };
}

export function endSession(ctx: AppContext, session: WebSession): Promise<void> {
  return revokeSession(ctx.db, session.id);
}

const SIGN_IN_REFUSALS: Record<Exclude<SignInLinkState, 'valid'>, ErrorCode> = {
  invalid: 'sign_in_invalid',
  used: 'sign_in_used',
  expired: 'sign_in_expired',
  other_browser: 'sign_in_other_browser',
};
