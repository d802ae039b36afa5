import type { NotifyJob } from '../queue/jobs.js';
import { sendApprovalRequest } from './approval-links.js';
import type { AppContext } from './context.js';
import { sendSignInEmail } from './sessions.js';
import { sendStaffEmail } from './staff-mail.js';

/** A notify job: a sign-in email or an approval request (their links minted now), or any other staff email. */
export async function deliverNotification(ctx: AppContext, job: NotifyJob): Promise<void> {
  if ('signInRequestId' in job) return sendSignInEmail(ctx, job.signInRequestId);
  if ('approvalLinkId' in job) return sendApprovalRequest(ctx, job);
  return sendStaffEmail(ctx, job);
}
