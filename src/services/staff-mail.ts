import { BULK_HEADERS } from '../mail/compose.js';
import type { StaffEmail } from '../queue/jobs.js';
import type { AppContext } from './context.js';

/** One message to one staff member, from the system's own address, on the staff connection. */
export async function sendStaffEmail(ctx: AppContext, email: StaffEmail): Promise<void> {
  await ctx.notifier.send({
    from: { name: 'Countersign', address: ctx.config.DEFAULT_FROM },
    to: email.to,
    subject: email.subject,
    html: email.html,
    text: email.text,
    headers: { 'Auto-Submitted': BULK_HEADERS['Auto-Submitted'], 'X-Auto-Response-Suppress': BULK_HEADERS['X-Auto-Response-Suppress'] },
  });
}
