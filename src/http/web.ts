import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { normaliseEmail } from '../domain/addresses.js';
import type { AppContext } from '../services/context.js';
import { AppError } from '../services/errors.js';
import { killSwitch } from '../services/halt.js';
import { previewInlineStyles } from '../services/previews.js';
import { resolveSession, ssoSession, type WebSession } from '../services/sessions.js';
import type { Chrome } from './views/html.js';

export const SESSION_COOKIE = 'cs_session';
export const BROWSER_COOKIE = 'cs_browser';
/** Where to go after signing in, kept in the asking browser only (for an approver it is the approval link). */
export const RETURN_COOKIE = 'cs_return';
const BROWSER_COOKIE_MS = 24 * 3600_000;

/**
 * Every response's Content-Security-Policy: scripts, styles, fetches and forms from this origin
 * only, no inline script or style, no framing by others. Message previews are `srcdoc` frames,
 * which inherit this policy, and an email carries inline styles: the email layout's own
 * declarations are allowed by hash, so previews look as the email does and nothing else inline
 * applies. The frames are sandboxed without scripts.
 */
export function contentSecurityPolicy(): string {
  const styleHashes = previewInlineStyles().map((style) => `'sha256-${createHash('sha256').update(style).digest('base64')}'`);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `style-src-attr 'unsafe-hashes' ${styleHashes.join(' ')}`,
    "img-src 'self'",
    "connect-src 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

declare module 'express-serve-static-core' {
  interface Request {
    webSession?: WebSession | null;
  }
}

export function cookies(req: Request): Record<string, string> {
  const header = req.get('cookie') ?? '';
  return Object.fromEntries(
    header
      .split(';')
      .map((part) => part.trim().split('='))
      .filter(([name, value]) => name && value !== undefined)
      .map(([name, ...rest]) => [name!, decodeURIComponent(rest.join('='))]),
  );
}

export function cookieOptions(ctx: AppContext, maxAgeMs: number) {
  return { httpOnly: true, sameSite: 'lax' as const, secure: ctx.config.PUBLIC_URL.startsWith('https:'), path: '/', maxAge: maxAgeMs };
}

/** The browser's own random nonce, set the first time it is needed: sign-in requests and SSO forms are bound to it. */
export function browserNonce(ctx: AppContext, req: Request, res: Response): string {
  // A second call in the same request finds the nonce the first one set.
  const existing = (res.locals.browserNonce as string | undefined) ?? cookies(req)[BROWSER_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const nonce = randomBytes(32).toString('base64url');
  res.cookie(BROWSER_COOKIE, nonce, cookieOptions(ctx, BROWSER_COOKIE_MS));
  res.locals.browserNonce = nonce;
  return nonce;
}

/**
 * Finds the signed-in person: the session cookie, or — only when SSO_EMAIL_HEADER is set and
 * the request came through a trusted proxy — the person the proxy names, without a session row.
 */
export function webSessions(ctx: AppContext) {
  return async (req: Request, res: Response, next: NextFunction) => {
    req.webSession = await resolveSession(ctx, cookies(req)[SESSION_COOKIE]);
    const header = ctx.config.SSO_EMAIL_HEADER;
    const proxied = header ? req.get(header) : undefined;
    const trusted = req.app.get('trust proxy fn') as (address: string, hop: number) => boolean;
    if (proxied && trusted(req.socket.remoteAddress ?? '', 0)) {
      const email = normaliseEmail(proxied);
      if (req.webSession?.actor.email !== email) req.webSession = await ssoSession(ctx, email, browserNonce(ctx, req, res));
    }
    next();
  };
}

export function signedIn(req: Request): WebSession {
  if (!req.webSession) throw new AppError(401, 'unauthenticated', 'sign in first');
  return req.webSession;
}

/** Every state-changing form carries the session's CSRF token. */
export function checkCsrf(req: Request): WebSession {
  return checkCsrfToken(req, (req.body as { _csrf?: unknown } | undefined)?._csrf);
}

/** The same check for a form read by the route itself, as it arrives. */
export function checkCsrfToken(req: Request, token: unknown): WebSession {
  const session = signedIn(req);
  const sent = Buffer.from(String(token ?? ''));
  const expected = Buffer.from(session.csrfToken);
  if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) {
    throw new AppError(403, 'csrf', 'This form has expired or did not come from Countersign. Reload the page and try again.');
  }
  return session;
}

export function requireSignedIn(req: Request, res: Response, next: NextFunction): void {
  if (req.webSession) return next();
  res.redirect(303, `/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}`);
}

/** What every page shows around its content: who is signed in, and the kill switch when it is engaged. */
export async function chromeFor(ctx: AppContext, req: Request): Promise<Chrome> {
  return { session: req.webSession ?? null, killSwitch: await killSwitch(ctx) };
}
