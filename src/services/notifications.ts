import { BULK_HEADERS } from '../mail/compose.js';
import type { NotifyJob } from '../queue/jobs.js';
import type { AppContext } from './context.js';

/** One message to one staff member, from the system's own address. */
export async function deliverNotification(ctx: AppContext, notification: NotifyJob): Promise<void> {
  await ctx.notifier.send({
    from: { name: 'Countersign', address: ctx.config.DEFAULT_FROM },
    to: notification.to,
    subject: notification.subject,
    html: notification.html,
    text: notification.text,
    headers: { 'Auto-Submitted': BULK_HEADERS['Auto-Submitted'], 'X-Auto-Response-Suppress': BULK_HEADERS['X-Auto-Response-Suppress'] },
  });
}
