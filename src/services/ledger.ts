import type { DeliveryView } from '../domain/api-shapes.js';
import type { DeliveryStatus } from '../domain/delivery.js';
import { pageDeliveries } from '../db/deliveries.js';
import type { AppContext } from './context.js';

const EXPORT_PAGE = 5000;

/** One page of a campaign's ledger in seq order, after `afterSeq`. */
export async function deliveriesPage(ctx: AppContext, campaignId: string, page: { status?: DeliveryStatus; afterSeq: number; limit: number }): Promise<DeliveryView[]> {
  const rows = await pageDeliveries(ctx.db, campaignId, page);
  return rows.map((r) => ({
    seq: r.seq,
    email: r.email,
    name: r.name,
    status: r.status,
    messageId: r.message_id,
    attempts: r.attempts,
    smtpResponse: r.smtp_response,
    claimedAt: r.claimed_at,
    finishedAt: r.finished_at,
  }));
}

/** The whole ledger a page at a time, for an export that never holds it all in memory. */
export async function* everyDelivery(ctx: AppContext, campaignId: string, status?: DeliveryStatus): AsyncGenerator<DeliveryView> {
  let afterSeq = 0;
  for (;;) {
    const rows = await deliveriesPage(ctx, campaignId, { status, afterSeq, limit: EXPORT_PAGE });
    yield* rows;
    if (rows.length < EXPORT_PAGE) return;
    afterSeq = rows.at(-1)!.seq;
  }
}
