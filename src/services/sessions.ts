import { describeInZone } from '../domain/time-zone.js';
import { createHash, createHmac, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { emailAddress } from '../domain/addresses.js';
import {
  consumeSignInLink,
  countCodeAttempt,
  deleteSignInRequestsExpiredBefore,
  findSession,
  findSignInLink,
  findSignInRequest,
  insertSession,
  insertSignInRequest,
  liveSignInRequestsOf,
  revokeSession,
  writeSignInSecrets,
} from '../db/sessions.js';
import { findUserByEmail } from '../db/users.js';
import { template } from '../mail/templates.js';
import type { Actor, AppContext } from './context.js';
import { AppError, parseInput, type ErrorCode } from './errors.js';
import { queueNotifications } from './dispatch.js';
import { sendStaffEmail } from './staff-mail.js';
import { hashToken, newSecretToken } from './users.js';

const SIGN_IN_LINK_TTL_MS = 15 * 60_000;
export const SESSION_TTL_MS = 12 * 3600_000;
/**
 * A client is an address as TRUST_PROXY resolves it. Per address and client, a person needs a few
 * tries; per client, an office behind one NAT address asks for many people. No limit is per
 * address alone, so nobody can keep a person from signing in from somewhere else.
 */
export const SIGN_IN_LIMITS = { addressAndClient: 5, client: 100 } as const;
const SIGN_IN_WINDOW_SECONDS = 15 * 60;
/** Wrong codes a request takes before its code stops working (its link still works). */
export const CODE_ATTEMPTS = 5;
// 8 characters from 32 that cannot be mistaken for one another: 40 bits, typed as XXXX-XXXX.
const CODE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const CODE_LENGTH = 8;
// A browser that asked more often than this in 15 minutes is over its limit anyway.
const LIVE_REQUESTS_CHECKED = SIGN_IN_LIMITS.addressAndClient * 2;

export const signInRequest = z.object({ email: emailAddress });
const signInCode = z.object({ code: z.string().max(40) });

/** Only paths on this site: a sign-in must never bounce someone to another origin. */
export function safeReturnTo(value: string | undefined): string {
  return value && /^\/(?!\/)[\w\-./?=&%]*$/.test(value) ? value : '/';
}

/** Counts requests per key in Redis, shared by every API process; keys hold hashes, not addresses. */
async function rateLimited(ctx: AppContext, kind: keyof typeof SIGN_IN_LIMITS, value: string): Promise<boolean> {
  const redisKey = `${ctx.queues.prefix}:signin:${kind}:${createHash('sha256').update(value).digest('hex')}`;
  // The window starts with the first request and the counter can never outlive it.
  const replies = await ctx.queues.redis.multi().set(redisKey, 0, 'EX', SIGN_IN_WINDOW_SECONDS, 'NX').incr(redisKey).exec();
  const count = Number(replies?.[1]?.[1] ?? 0);
  return count > SIGN_IN_LIMITS[kind];
}

/**
 * Records a request to sign in and queues its email. The work is the same whether or not the
 * address is a user (one row written, one job queued, nothing looked up): the notify worker finds
 * out, and sends a link and a code only to a user. `browserNonce` comes from a cookie set on this
 * browser now: link and code only work where they were asked for.
 */
export async function requestSignIn(ctx: AppContext, body: unknown, request: { client: string; browserNonce: string }): Promise<void> {
  const input = parseInput(signInRequest, body);
  if (
    (await rateLimited(ctx, 'addressAndClient', `${input.email} ${request.client}`)) ||
    (await rateLimited(ctx, 'client', request.client))
  ) {
    throw new AppError(429, 'rate_limited', 'Too many sign-in requests from here. Wait a few minutes and try again.');
  }
  const id = randomUUID();
  const expiresAt = new Date(ctx.now().getTime() + SIGN_IN_LINK_TTL_MS);
  await insertSignInRequest(ctx.db, { id, email: input.email, browserHash: hashToken(request.browserNonce), expiresAt });
  await queueNotifications(ctx, [{ signInRequestId: id }]);
}

function newSignInCode(): string {
  return Array.from({ length: CODE_LENGTH }, () => CODE_ALPHABET[randomInt(CODE_ALPHABET.length)]).join('');
}

/** What a person may type: any case, spaces and dashes ignored. */
function normaliseCode(typed: string): string {
  return typed.toUpperCase().replace(/[^A-Z0-9]/g, '');
}

// Bound to its request, so one hash says nothing about another request's code.
const codeHash = (requestId: string, code: string) => hashToken(`${requestId}:${code}`);

/**
 * The notify worker's half of a request: for an active user, a fresh link and code (a retried
 * send replaces both), emailed; for any other address, nothing.
 */
export async function sendSignInEmail(ctx: AppContext, requestId: string): Promise<void> {
  const now = ctx.now();
  await deleteSignInRequestsExpiredBefore(ctx.db, new Date(now.getTime() - 24 * 3600_000));
  const request = await findSignInRequest(ctx.db, requestId);
  if (!request || request.consumed_at || request.expires_at.getTime() <= now.getTime()) return;
  const user = await findUserByEmail(ctx.db, request.email);
  if (!user || user.disabled_at) return;
  const token = newSecretToken();
  const code = newSignInCode();
  if (
    !(await writeSignInSecrets(ctx.db, request.id, {
      userId: user.id,
      tokenHash: hashToken(token),
      codeHash: codeHash(request.id, code),
      now,
    }))
  )
    return;
  const values = {
    name: user.name,
    url: new URL(`/sign-in/${token}`, ctx.config.PUBLIC_URL).toString(),
    code: `${code.slice(0, 4)}-${code.slice(4)}`,
    expiresAt: describeInZone(request.expires_at, ctx.config.ORG_TIME_ZONE),
  };
  await sendStaffEmail(ctx, {
    to: user.email,
    subject: 'Your Countersign sign-in link',
    html: template('layout.html').render({
      subject: 'Sign in to Countersign',
      preheader: `Your sign-in code is ${values.code}`,
      content: template('sign-in.html').render(values),
      footer: 'Sent because someone asked to sign in with this address.',
    }),
    text: template('sign-in.txt').render(values),
  });
}

export type SignInLinkState = 'valid' | 'invalid' | 'used' | 'expired' | 'other_browser';

export async function signInLinkState(ctx: AppContext, token: string, browserNonce: string | undefined): Promise<SignInLinkState> {
  const link = await findSignInLink(ctx.db, hashToken(token));
  if (!link?.user_id) return 'invalid';
  if (link.consumed_at) return 'used';
  if (link.expires_at.getTime() <= ctx.now().getTime()) return 'expired';
  if (!browserNonce || hashToken(browserNonce) !== link.browser_hash) return 'other_browser';
  return 'valid';
}

/** The deciding POST of a link: consumes it only from the browser that asked, and starts a session. */
export async function completeSignIn(ctx: AppContext, token: string, browserNonce: string | undefined): Promise<string> {
  const link = await findSignInLink(ctx.db, hashToken(token));
  const state = await signInLinkState(ctx, token, browserNonce);
  if (!link?.user_id || state !== 'valid' || !(await consumeSignInLink(ctx.db, link.id, hashToken(browserNonce!), ctx.now()))) {
    // Valid a moment ago but not consumable now: another request used it first.
    const refused = state === 'valid' ? 'used' : state;
    throw new AppError(403, SIGN_IN_REFUSALS[refused], `this sign-in link cannot be used: it is ${refused.replace('_', ' ')}`);
  }
  return startSession(ctx, link.user_id);
}

/**
 * The code from the email, typed into the browser that asked (the link may have been read on a
 * phone). Checked against this browser's live requests only; every wrong code counts against
 * each of them, and after `CODE_ATTEMPTS` a request's code no longer works. A request for an
 * address that is no user has no code, and answers like a wrong one.
 */
export async function completeSignInWithCode(ctx: AppContext, body: unknown, browserNonce: string | undefined): Promise<string> {
  const typed = normaliseCode(parseInput(signInCode, body).code);
  const browserHash = browserNonce ? hashToken(browserNonce) : '';
  const live = browserNonce ? await liveSignInRequestsOf(ctx.db, browserHash, ctx.now(), LIVE_REQUESTS_CHECKED) : [];
  const match = live.find((request) => {
    const expected = Buffer.from(request.code_hash ?? '');
    const given = Buffer.from(codeHash(request.id, typed));
    return request.code_attempts < CODE_ATTEMPTS && expected.length === given.length && timingSafeEqual(expected, given);
  });
  if (!match?.user_id || !(await consumeSignInLink(ctx.db, match.id, browserHash, ctx.now(), CODE_ATTEMPTS))) {
    await countCodeAttempt(
      ctx.db,
      live.map((request) => request.id),
    );
    throw new AppError(403, 'sign_in_code', 'That code does not sign in this browser. Check it, or ask for a new one.');
  }
  return startSession(ctx, match.user_id);
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

export interface WebSession {
  /** The session row of a sign-in; null for a person a trusted SSO proxy names on each request. */
  id: string | null;
  csrfToken: string;
  actor: Actor;
}

export async function resolveSession(ctx: AppContext, sessionToken: string | undefined): Promise<WebSession | null> {
  if (!sessionToken) return null;
  const row = await findSession(ctx.db, hashToken(sessionToken), ctx.now());
  if (!row) return null;
  return { id: row.session_id, csrfToken: row.csrf_token, actor: { id: row.id, email: row.email, name: row.name, roles: row.roles } };
}

/**
 * Behind a trusted SSO proxy the proxy vouches for every request, so no session row is written:
 * the person is looked up each time. The CSRF token is tied to the browser's own random nonce
 * (an HttpOnly cookie another site can neither read nor set) and to the person.
 */
export async function ssoSession(ctx: AppContext, email: string, browserNonce: string): Promise<WebSession> {
  const user = await findUserByEmail(ctx.db, email);
  if (!user || user.disabled_at) throw new AppError(403, 'forbidden', `${email} is not a Countersign user`);
  const csrfToken = createHmac('sha256', browserNonce).update(`sso-csrf:${user.id}`).digest('base64url');
  return { id: null, csrfToken, actor: { id: user.id, email: user.email, name: user.name, roles: user.roles } };
}

export async function endSession(ctx: AppContext, session: WebSession): Promise<void> {
  if (session.id) await revokeSession(ctx.db, session.id);
}

const SIGN_IN_REFUSALS: Record<Exclude<SignInLinkState, 'valid'>, ErrorCode> = {
  invalid: 'sign_in_invalid',
  used: 'sign_in_used',
  expired: 'sign_in_expired',
  other_browser: 'sign_in_other_browser',
};
