import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AppContext } from '../services/context.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { AppError } from '../services/errors.js';
import { apiRouter } from './routes/api.js';
import { linkMessagePage } from './views/approval-page.js';
import { approvalLinkRouter } from './routes/approval-links.js';
import { consoleRouter } from './routes/console.js';
import { signInRouter } from './routes/sign-in.js';
import { webSessions } from './web.js';

const ASSETS_DIR = path.join(PACKAGE_ROOT, 'src', 'http', 'assets');

export function createApp(ctx: AppContext, log: (line: string) => void = () => {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.TRUST_PROXY);
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY' });
    next();
  });
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.use('/assets', express.static(ASSETS_DIR, { maxAge: '1h' }));
  app.use('/api/v1', apiRouter(ctx));
  app.use(webSessions(ctx));
  app.use(signInRouter(ctx));
  app.use(approvalLinkRouter(ctx));
  app.use(consoleRouter(ctx));
  app.use((req: Request, res: Response) => {
    if (req.originalUrl.startsWith('/api/')) res.status(404).json({ error: 'not_found', message: `no route for ${req.method} ${req.path}` });
    else res.status(404).send(linkMessagePage('Not found', `There is no page at ${req.path}.`));
  });
  app.use((error: unknown, req: Request, res: Response, _next: NextFunction) => {
    const api = req.originalUrl.startsWith('/api/') || req.accepts(['html', 'json']) === 'json';
    if (error instanceof AppError && !api) {
      if (error.status === 401) return res.redirect(303, `/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}`);
      res.status(error.status).send(linkMessagePage(error.status === 404 ? 'Not found' : 'That did not work', error.message, { session: req.webSession ?? null }));
      return;
    }
    if (error instanceof AppError) {
      res.status(error.status).json({ error: error.code, message: error.message, issues: error.issues });
      return;
    }
    const parseFailure = error as { type?: string; status?: number; message?: string };
    if (parseFailure.type === 'entity.parse.failed') {
      res.status(400).json({ error: 'malformed_json', message: 'the request body is not valid JSON', issues: [{ field: '(body)', message: parseFailure.message }] });
      return;
    }
    if (parseFailure.type === 'entity.too.large') {
      res.status(413).json({ error: 'too_large', message: 'the request body is too large', issues: [] });
      return;
    }
    log(`unhandled error: ${(error as Error).stack ?? String(error)}`);
    res.status(500).json({ error: 'internal', message: 'internal error' });
  });
  return app;
}
