import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../services/context.js';
import { AppError } from '../../services/errors.js';
import { completeSignIn, endSession, requestSignIn, safeReturnTo, signInLinkState } from '../../services/sessions.js';
import { messagePage } from '../views/html.js';
import { SIGN_IN_MESSAGES, signInLinkPage, signInPage, signInRefusal } from '../views/sign-in.js';
import { BROWSER_COOKIE, checkCsrf, chromeFor, cookieOptions, cookies, SESSION_COOKIE } from '../web.js';

const BROWSER_COOKIE_MS = 24 * 3600_000;

/** The browser's own nonce, set when it first asks to sign in; a sign-in link works only where it exists. */
function browserNonce(ctx: AppContext, req: Request, res: Response): string {
  const existing = cookies(req)[BROWSER_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const nonce = randomBytes(32).toString('base64url');
  res.cookie(BROWSER_COOKIE, nonce, cookieOptions(ctx, BROWSER_COOKIE_MS));
  return nonce;
}

export function signInRouter(ctx: AppContext): Router {
  const router = Router();
  // Only its own paths: a parser mounted for every path would refuse larger forms before their routers see them.
  router.use(['/sign-in', '/sign-out'], express.urlencoded({ extended: false, limit: '20kb' }));
  const noStore = (res: Response) => res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });

  router.get('/sign-in', async (req, res) => {
    noStore(res);
    const returnTo = safeReturnTo(typeof req.query.returnTo === 'string' ? req.query.returnTo : undefined);
    const email = typeof req.query.email === 'string' ? req.query.email : undefined;
    res.send(signInPage({ returnTo, email }, await chromeFor(ctx, req)));
  });

  router.post('/sign-in', async (req, res) => {
    noStore(res);
    const nonce = browserNonce(ctx, req, res);
    const returnTo = safeReturnTo(req.body?.returnTo);
    try {
      await requestSignIn(ctx, req.body, { ip: req.ip ?? '', browserNonce: nonce });
      res.send(signInPage({ returnTo, sent: true }, await chromeFor(ctx, req)));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res.status(error.status).send(signInPage({ returnTo, email: String(req.body?.email ?? ''), error: error.message }, await chromeFor(ctx, req)));
    }
  });

  // Opening the link (a person, or a scanner) only shows a button; nothing is consumed.
  router.get('/sign-in/:token', async (req, res) => {
    noStore(res);
    const state = await signInLinkState(ctx, req.params.token!, cookies(req)[BROWSER_COOKIE]);
    if (state === 'invalid' || state === 'used' || state === 'expired') {
      return res.status(410).send(messagePage('Sign-in link', SIGN_IN_MESSAGES[state]));
    }
    res.send(signInLinkPage(req.params.token!, await chromeFor(ctx, req)));
  });

  router.post('/sign-in/:token', async (req, res) => {
    noStore(res);
    try {
      const { sessionToken, returnTo } = await completeSignIn(ctx, req.params.token!, cookies(req)[BROWSER_COOKIE]);
      res.cookie(SESSION_COOKIE, sessionToken, cookieOptions(ctx, 12 * 3600_000));
      res.redirect(303, returnTo);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res.status(error.status).send(messagePage('Not signed in', signInRefusal(error)));
    }
  });

  router.post('/sign-out', async (req, res) => {
    const session = checkCsrf(req);
    await endSession(ctx, session);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.redirect(303, '/sign-in');
  });
  return router;
}
