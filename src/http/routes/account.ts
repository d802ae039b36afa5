import express, { Router, type Request, type Response } from 'express';
import type { AppContext } from '../../services/context.js';
import { AppError } from '../../services/errors.js';
import { issueOwnApiToken, ownApiTokens, revokeOwnApiToken } from '../../services/own-tokens.js';
import { consoleChrome, redirectWithNotice } from '../notices.js';
import { accountPage, type AccountModel } from '../views/account.js';
import { checkCsrf, requireSignedIn, signedIn } from '../web.js';

/** The signed-in person's own account: who they are, and their API tokens. */
export function accountRouter(ctx: AppContext): Router {
  const router = Router();
  router.use('/account', express.urlencoded({ extended: false, limit: '20kb' }), requireSignedIn);

  const render = async (req: Request, res: Response, extra: Omit<AccountModel, 'tokens'> = {}, status = 200) => {
    const tokens = await ownApiTokens(ctx, signedIn(req).actor);
    // A page with a token on it is never kept by a cache.
    res
      .status(status)
      .set('Cache-Control', 'no-store')
      .send(accountPage({ tokens, ...extra }, await consoleChrome(ctx, req)));
  };

  router.get('/account', (req, res) => render(req, res));

  router.post('/account/tokens', async (req, res) => {
    const session = checkCsrf(req);
    try {
      const created = await issueOwnApiToken(ctx, session.actor, req.body ?? {});
      await render(req, res, { created }, 201);
    } catch (error) {
      if (!(error instanceof AppError) || error.status !== 400) throw error;
      await render(req, res, { labelError: error.issues.map((i) => i.message).join('; ') || error.message }, 400);
    }
  });

  router.post('/account/tokens/:id/revoke', async (req, res) => {
    await revokeOwnApiToken(ctx, checkCsrf(req).actor, String(req.params.id));
    redirectWithNotice(res, '/account', 'token-revoked');
  });
  return router;
}
