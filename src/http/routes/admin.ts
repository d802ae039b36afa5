import express, { Router, type Request, type Response } from 'express';
import { requireRole, type AppContext } from '../../services/context.js';
import { queueHealth, recentFailures } from '../../services/queue-health.js';
import { AppError } from '../../services/errors.js';
import { haltAll, resumeAll } from '../../services/halt.js';
import {
  addUserAsAdmin,
  cancelRoleGrant,
  changeRoles,
  confirmRoleGrant,
  deactivateUser,
  pendingRoleGrants,
  reactivateUser,
} from '../../services/people.js';
import { allUsers } from '../../services/users.js';
import { consoleChrome, redirectWithNotice } from '../notices.js';
import { adminPage, queuesPage } from '../views/admin.js';
import { checkCsrf, requireSignedIn, signedIn } from '../web.js';

/** A checkbox group posts nothing, one value or several. */
function rolesOf(body: Record<string, unknown> | undefined): unknown[] {
  const roles = body?.roles;
  return roles === undefined ? [] : Array.isArray(roles) ? roles : [roles];
}

/** People and roles, and the kill switch. */
export function adminRouter(ctx: AppContext): Router {
  const router = Router();
  router.use('/admin', express.urlencoded({ extended: false, limit: '100kb' }), requireSignedIn);

  const renderAdmin = async (req: Request, res: Response, error?: AppError) => {
    const [users, grants] = await Promise.all([allUsers(ctx), pendingRoleGrants(ctx)]);
    res.status(error?.status ?? 200).send(adminPage({ users, grants }, await consoleChrome(ctx, req), error?.message));
  };
  /** Shows a refusal the form can fix on the page; anything else (403 included) goes to the error handler. */
  const orRefusal = (run: (req: Request, res: Response) => Promise<void>) => async (req: Request, res: Response) => {
    try {
      await run(req, res);
    } catch (error) {
      if (!(error instanceof AppError) || error.status === 403) throw error;
      await renderAdmin(req, res, error);
    }
  };

  router.get('/admin', (req, res) => renderAdmin(req, res));
  router.get('/admin/queues', async (req, res) => {
    requireRole(signedIn(req).actor, 'admin');
    const [queues, failures] = await Promise.all([queueHealth(ctx), recentFailures(ctx)]);
    res.send(queuesPage({ queues, failures }, await consoleChrome(ctx, req)));
  });
  router.post('/admin/halt-all', async (req, res) => {
    await haltAll(ctx, checkCsrf(req).actor, 'kill switch engaged from the console');
    redirectWithNotice(res, '/admin', 'kill-engaged');
  });
  router.post('/admin/resume-all', async (req, res) => {
    await resumeAll(ctx, checkCsrf(req).actor);
    redirectWithNotice(res, '/admin', 'kill-released');
  });
  router.post(
    '/admin/users',
    orRefusal(async (req, res) => {
      const session = checkCsrf(req);
      const user = await addUserAsAdmin(ctx, session.actor, {
        email: req.body?.email ?? '',
        name: req.body?.name ?? '',
        roles: rolesOf(req.body),
      });
      const held = (await pendingRoleGrants(ctx)).some((g) => g.user_id === user.id);
      redirectWithNotice(res, '/admin', held ? 'grant-requested' : 'user-added');
    }),
  );
  router.post(
    '/admin/users/:id/roles',
    orRefusal(async (req, res) => {
      const session = checkCsrf(req);
      await changeRoles(ctx, session.actor, String(req.params.id), { roles: rolesOf(req.body) });
      const held = (await pendingRoleGrants(ctx)).some((g) => g.user_id === String(req.params.id));
      redirectWithNotice(res, '/admin', held ? 'grant-requested' : 'roles-saved');
    }),
  );
  const personAction = (path: string, run: typeof deactivateUser, notice: 'user-deactivated' | 'user-reactivated') =>
    router.post(
      `/admin/users/:id/${path}`,
      orRefusal(async (req, res) => {
        await run(ctx, checkCsrf(req).actor, String(req.params.id));
        redirectWithNotice(res, '/admin', notice);
      }),
    );
  personAction('deactivate', deactivateUser, 'user-deactivated');
  personAction('reactivate', reactivateUser, 'user-reactivated');
  router.post(
    '/admin/grants/:id/confirm',
    orRefusal(async (req, res) => {
      await confirmRoleGrant(ctx, checkCsrf(req).actor, String(req.params.id));
      redirectWithNotice(res, '/admin', 'grant-confirmed');
    }),
  );
  router.post(
    '/admin/grants/:id/cancel',
    orRefusal(async (req, res) => {
      await cancelRoleGrant(ctx, checkCsrf(req).actor, String(req.params.id));
      redirectWithNotice(res, '/admin', 'grant-cancelled');
    }),
  );
  return router;
}
