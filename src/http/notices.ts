import type { Request, Response } from 'express';
import type { AppContext } from '../services/context.js';
import type { Chrome } from './views/html.js';
import { chromeFor } from './web.js';

/** After a form posts, the page it lands on says what happened: `?notice=` names one of these. */
const NOTICES = {
  saved: () => 'Draft saved.',
  submitted: () => 'Submitted: the approvers have been emailed their review links.',
  cancelled: () => 'Campaign cancelled.',
  halted: (q: Record<string, string>) => `Halted. ${q.inFlight ?? 0} deliveries were already in flight; ${q.stopped ?? 0} were stopped.`,
  'test-sent': (q: Record<string, string>) => `A test went to ${q.sentTo ?? 'you'}, as ${q.renderedFor ?? 'a recipient'} gets it.`,
  continued: () => 'Continuing: the rest of the audience gets it now.',
  recalled: () => 'Correction created and sent to the approvers.',
  'retraction-approved': () => 'Approval recorded. The retraction starts once it has all the approvals it needs.',
  'retraction-started': () => 'Approved: the retraction is moving the message to Trash in each mailbox.',
  'retraction-halted': (q: Record<string, string>) =>
    `Retraction halted. ${q.stopped ?? 0} mailboxes will not be touched; ${q.inFlight ?? 0} were being worked on.`,
  'recall-drafted': () => 'The original is halted and a correction is drafted: an author must submit it for approval.',
  imported: (q: Record<string, string>) => `Imported ${q.imported ?? 0} members (${q.merged ?? 0} duplicates merged).`,
  'kill-engaged': () => 'Kill switch engaged: everything scheduled or sending is halted.',
  'kill-released': () => 'Kill switch released. Halted campaigns still need a fresh approval.',
  'user-added': () => 'Person added. They sign in with their email address.',
  'roles-saved': () => 'Roles saved. Grants of approver or admin are emailed to every admin.',
  'grant-requested': () => 'Saved. The approver or admin role waits for a second admin to confirm it.',
  'grant-confirmed': () => 'Role grant confirmed.',
  'grant-cancelled': () => 'Role grant cancelled.',
  'user-deactivated': () =>
    'Deactivated: their sessions and tokens no longer work, and their approvals of campaigns not yet sending are void.',
  'user-reactivated': () => 'Reactivated.',
  'token-revoked': () => 'Token revoked: anything using it can no longer call the API.',
} satisfies Record<string, (query: Record<string, string>) => string>;

export type Notice = keyof typeof NOTICES;

/** The page's chrome, with the notice its URL names. */
export async function consoleChrome(ctx: AppContext, req: Request): Promise<Chrome> {
  const name = req.query.notice;
  const notice =
    typeof name === 'string' && Object.hasOwn(NOTICES, name) ? NOTICES[name as Notice](req.query as Record<string, string>) : undefined;
  return { ...(await chromeFor(ctx, req)), notice };
}

/** Post/redirect/get: back to a page that says what the form did. */
export function redirectWithNotice(res: Response, path: string, notice: Notice, extra: Record<string, string | number> = {}): void {
  const query = new URLSearchParams({ notice, ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])) });
  res.redirect(303, `${path}?${query}`);
}
