import { BULK_HEADERS } from '../mail/compose.js';
import type { NotifyJob } from '../queue/jobs.js';
import type { AppContext } from './context.js';

export type Notification = NotifyJob;

export async function sendNotifications(ctx: AppContext, notifications: Notification[]): Promise<void> {
  if (notifications.length === 0) return;
  await ctx.queues.notify.addBulk(notifications.map((data) => ({ name: 'notify', data })));
}

/** One message to one staff member, from the system's own address. */
export async function deliverNotification(ctx: AppContext, notification: Notification): Promise<void> {
  await ctx.mailer.send({
    from: { name: 'Countersign', address: ctx.config.DEFAULT_FROM },
    to: notification.to,
    subject: notification.subject,
    html: notification.html,
    text: notification.text,
    headers: { 'Auto-Submitted': BULK_HEADERS['Auto-Submitted'], 'X-Auto-Response-Suppress': BULK_HEADERS['X-Auto-Response-Suppress'] },
  });
}
