import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../services/context.js';
import { AppError } from '../../services/errors.js';
import {
  completeSignIn,
  completeSignInWithCode,
  endSession,
  requestSignIn,
  safeReturnTo,
  SESSION_TTL_MS,
  signInLinkState,
} from '../../services/sessions.js';
import { messagePage } from '../views/html.js';
import { SIGN_IN_MESSAGES, signInCodePage, signInLinkPage, signInPage, signInRefusal } from '../views/sign-in.js';
import { BROWSER_COOKIE, browserNonce, checkCsrf, chromeFor, cookieOptions, cookies, RETURN_COOKIE, SESSION_COOKIE } from '../web.js';

const RETURN_COOKIE_MS = 15 * 60_000;
const returnCookieOptions = (ctx: AppContext) => ({ ...cookieOptions(ctx, RETURN_COOKIE_MS), path: '/sign-in' });

export function signInRouter(ctx: AppContext): Router {
  const router = Router();
  // Only its own paths: a parser mounted for every path would refuse larger forms before their routers see them.
  router.use(['/sign-in', '/sign-out'], express.urlencoded({ extended: false, limit: '20kb' }));
  const noStore = (res: Response) => res.set({ 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });

  /** A new session in this browser, then back to where the person was going before they asked. */
  const signedIn = (req: Request, res: Response, sessionToken: string) => {
    res.cookie(SESSION_COOKIE, sessionToken, cookieOptions(ctx, SESSION_TTL_MS));
    res.clearCookie(RETURN_COOKIE, { path: '/sign-in' });
    res.redirect(303, safeReturnTo(cookies(req)[RETURN_COOKIE]));
  };

  // The address is never filled in from the URL: asking for a link takes a person who types it.
  router.get('/sign-in', async (req, res) => {
    noStore(res);
    const returnTo = safeReturnTo(typeof req.query.returnTo === 'string' ? req.query.returnTo : undefined);
    res.send(signInPage({ returnTo }, await chromeFor(ctx, req)));
  });

  router.post('/sign-in', async (req, res) => {
    noStore(res);
    const nonce = browserNonce(ctx, req, res);
    const returnTo = safeReturnTo(req.body?.returnTo);
    try {
      await requestSignIn(ctx, req.body, { client: req.ip ?? '', browserNonce: nonce });
      if (returnTo === '/') res.clearCookie(RETURN_COOKIE, { path: '/sign-in' });
      else res.cookie(RETURN_COOKIE, returnTo, returnCookieOptions(ctx));
      res.send(signInCodePage({ sent: true }, await chromeFor(ctx, req)));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res
        .status(error.status)
        .send(signInPage({ returnTo, email: String(req.body?.email ?? ''), error: error.message }, await chromeFor(ctx, req)));
    }
  });

  router.get('/sign-in/code', async (req, res) => {
    noStore(res);
    res.send(signInCodePage({}, await chromeFor(ctx, req)));
  });

  router.post('/sign-in/code', async (req, res) => {
    noStore(res);
    try {
      signedIn(req, res, await completeSignInWithCode(ctx, req.body, cookies(req)[BROWSER_COOKIE]));
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      res.status(error.status).send(signInCodePage({ error: error.message }, await chromeFor(ctx, req)));
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
      signedIn(req, res, await completeSignIn(ctx, req.params.token!, cookies(req)[BROWSER_COOKIE]));
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
