import type { NextFunction, Request, Response } from 'express';
import type { Actor, AppContext } from '../services/context.js';
import { AppError } from '../services/errors.js';
import { authenticateToken } from '../services/users.js';

declare module 'express-serve-static-core' {
  interface Request {
    actor?: Actor;
  }
}

/** `Authorization: Bearer <token>`: 401 without a valid one. Roles are checked by each service. */
export function bearerAuth(ctx: AppContext) {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const match = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    if (!match) throw new AppError(401, 'unauthenticated', 'send Authorization: Bearer <token>');
    const user = await authenticateToken(ctx.db, match[1]!);
    if (!user) throw new AppError(401, 'unauthenticated', 'the token is unknown or revoked');
    req.actor = user;
    next();
  };
}

export function actorOf(req: Request): Actor {
  if (!req.actor) throw new AppError(401, 'unauthenticated', 'not signed in');
  return req.actor;
}
