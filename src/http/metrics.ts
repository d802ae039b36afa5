import { createHash, timingSafeEqual } from 'node:crypto';
import express, { Router, type NextFunction, type Request, type Response } from 'express';
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

/** Times each request by its route template (`/api/v1/campaigns/:id`), never by its concrete path. */
export function timeRequests(req: Request, res: Response, next: NextFunction): void {
  const stop = httpDuration.startTimer();
  res.once('finish', () => {
    const route = req.route ? `${req.baseUrl}${String(req.route.path)}` : 'unmatched';
    stop({ method: req.method, route, status: String(res.statusCode) });
  });
  next();
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
