import path from 'node:path';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeBytes } from '../domain/import-limits.js';
import { redactLinks } from '../domain/redaction.js';
import { silentLogger, type Logger } from '../logger.js';
import type { AppContext } from '../services/context.js';
import { PACKAGE_ROOT } from '../package-root.js';
import { readiness } from '../services/readiness.js';
import { AppError, type ErrorCode, type FieldIssue } from '../services/errors.js';
import { apiRouter } from './routes/api.js';
import { accountRouter } from './routes/account.js';
import { adminRouter } from './routes/admin.js';
import { approvalRouter } from './routes/approval.js';
import { campaignsRouter } from './routes/campaigns.js';
import { listsRouter } from './routes/lists.js';
import { signInRouter } from './routes/sign-in.js';
import { apiReferencePage } from './views/api-reference.js';
import { messagePage } from './views/html.js';
import { metricsRouter, observeRequests } from './metrics.js';
import { openApiDocument } from './openapi.js';
import { endAfterEarlyAnswer } from './request-body.js';
import { chromeFor, contentSecurityPolicy, webSessions } from './web.js';
import { pageAbove } from './way-back.js';

const ASSETS_DIR = path.join(PACKAGE_ROOT, 'src', 'http', 'assets');

export function createApp(ctx: AppContext, logger: Logger = silentLogger): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', ctx.config.TRUST_PROXY);
  const csp = contentSecurityPolicy();
  app.use((_req, res, next) => {
    res.set({ 'X-Content-Type-Options': 'nosniff', 'X-Frame-Options': 'DENY', 'Content-Security-Policy': csp });
    next();
  });
  app.use(observeRequests(logger));
  app.use(metricsRouter(ctx));
  // Liveness: the process answers. Readiness: it can do its work (a load balancer routes on the status).
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await readiness(ctx);
    res.status(report.ready ? 200 : 503).json(report);
  });
  app.use('/assets', express.static(ASSETS_DIR, { maxAge: '1h' }));
  // The reference is public: it describes the API, and every route in it still needs a token.
  const apiDocument = openApiDocument(ctx.config.PUBLIC_URL);
  app.get('/api/v1/openapi.json', (_req, res) => {
    res.json(apiDocument);
  });
  app.get(['/api/docs', '/api/v1/docs'], (_req, res) => {
    res.send(apiReferencePage(apiDocument));
  });
  app.use('/api/v1', apiRouter(ctx));
  app.use(webSessions(ctx));
  app.use(signInRouter(ctx));
  app.use(approvalRouter(ctx));
  app.use(campaignsRouter(ctx));
  app.use(listsRouter(ctx));
  app.use(adminRouter(ctx));
  app.use(accountRouter(ctx));
  app.use(async (req: Request, res: Response) => {
    if (req.originalUrl.startsWith('/api/')) return sendError(res, 404, 'not_found', `no route for ${req.method} ${req.path}`);
    res.status(404).send(messagePage('Not found', `There is no page at ${req.path}.`, await chromeFor(ctx, req), wayBack(req)));
  });
  app.use(async (error: unknown, req: Request, res: Response, _next: NextFunction) => {
    endAfterEarlyAnswer(req, res);
    const api = req.originalUrl.startsWith('/api/') || req.accepts(['html', 'json']) === 'json';
    if (error instanceof AppError && !api) {
      if (error.status === 401) return res.redirect(303, `/sign-in?returnTo=${encodeURIComponent(req.originalUrl)}`);
      const chrome = await chromeFor(ctx, req).catch(() => ({ session: req.webSession ?? null }));
      res
        .status(error.status)
        .send(messagePage(error.status === 404 ? 'Not found' : 'That did not work', error.message, chrome, wayBack(req)));
      return;
    }
    if (error instanceof AppError) {
      sendError(res, error.status, error.code, error.message, error.issues);
      return;
    }
    const parseFailure = error as { type?: string; status?: number; message?: string };
    if (parseFailure.type === 'entity.parse.failed') {
      sendError(res, 400, 'malformed_json', 'the request body is not valid JSON', [
        { field: '(body)', message: parseFailure.message ?? '' },
      ]);
      return;
    }
    if (parseFailure.type === 'entity.too.large') {
      const limit = (error as { limit?: number }).limit;
      sendError(res, 413, 'too_large', limit ? `the request body is larger than ${describeBytes(limit)}` : 'the request body is too large');
      return;
    }
    logger.error({ path: redactLinks(req.path), stack: redactLinks((error as Error).stack ?? String(error)) }, 'unhandled error');
    sendError(res, 500, 'internal', 'internal error');
  });
  return app;
}

/** Where a refused or missing page leads: the page the action belongs to, or the start for who is signed in. */
function wayBack(req: Request): { href: string; label: string } {
  if (!req.webSession) return { href: '/sign-in', label: 'Sign in' };
  return pageAbove(req.path) ?? { href: '/', label: 'Go to the campaigns' };
}

/** The API's one error shape: `{ error, message, issues }`. */
function sendError(res: Response, status: number, code: ErrorCode, message: string, issues: FieldIssue[] = []): void {
  res.status(status).json({ error: code, message, issues });
}
