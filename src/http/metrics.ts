import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { redactLinks } from '../domain/redaction.js';
import type { Logger } from '../logger.js';
import type { AppContext } from '../services/context.js';
import { httpDuration, metricsText } from '../services/metrics.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** GET /metrics for a Prometheus scraper holding METRICS_TOKEN; without a token configured there is no such page. */
export function metricsRouter(ctx: AppContext): Router {
  const router = Router();
  const token = ctx.config.METRICS_TOKEN;
  router.get('/metrics', async (req, res, next) => {
    if (!token) return next();
    const offered = /^Bearer (.+)$/.exec(req.get('authorization') ?? '')?.[1] ?? '';
    // A scraper, not a person: no redirect to sign in.
    if (!timingSafeEqual(digest(offered), digest(token))) {
      res.status(401).json({ error: 'unauthenticated', message: 'send Authorization: Bearer <METRICS_TOKEN>', issues: [] });
      return;
    }
    const { contentType, body } = await metricsText(ctx);
    res.type(contentType).send(body);
  });
  return router;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Times each request by its route template (`/api/v1/campaigns/:id`), never by its concrete path,
 * and logs it as one line: request id (a proxy's X-Request-Id, or a new one, echoed back), route,
 * path without its query (tokens removed), status, duration, actor and campaign.
 */
export function observeRequests(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const offered = req.get('x-request-id');
    const reqId = offered && REQUEST_ID.test(offered) ? offered : randomUUID();
    res.setHeader('X-Request-Id', reqId);
    const stop = httpDuration.startTimer();
    res.once('finish', () => {
      const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
      const seconds = stop({ method: req.method, route, status: String(res.statusCode) });
      const campaignId = route.includes('/campaigns/:id') ? req.params.id : undefined;
      const actor = req.actor?.email ?? req.webSession?.actor.email;
      logger.info(
        {
          reqId,
          method: req.method,
          route,
          path: redactLinks(req.path),
          status: res.statusCode,
          ms: Math.round(seconds * 1000),
          actor,
          campaignId,
        },
        'request',
      );
    });
    next();
  };
}

/** What a `workers` process serves on METRICS_PORT: /metrics alone. */
export function metricsApp(ctx: AppContext): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(metricsRouter(ctx));
  app.use((_req: Request, res: Response) => {
    res.status(404).json({ error: 'not_found', message: 'this port serves /metrics only', issues: [] });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    res.status(503).json({ error: 'unavailable', message: `metrics unavailable: ${(error as Error).message}`, issues: [] });
  });
  return app;
}
