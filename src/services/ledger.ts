import type { DeliveryStatus } from '../domain/delivery.js';
import { pageDeliveries } from '../db/deliveries.js';
import type { AppContext } from './context.js';

const EXPORT_PAGE = 5000;

/** One page of a campaign's ledger in seq order, after `afterSeq`. */
export function deliveriesPage(ctx: AppContext, campaignId: string, page: { status?: DeliveryStatus; afterSeq: number; limit: number }) {
  return pageDeliveries(ctx.db, campaignId, page);
}

export type LedgerRow = Awaited<ReturnType<typeof deliveriesPage>>[number];

/** The whole ledger a page at a time, for an export that never holds it all in memory. */
export async function* everyDelivery(ctx: AppContext, campaignId: string, status?: DeliveryStatus): AsyncGenerator<LedgerRow> {
  let afterSeq = 0;
  for (;;) {
    const rows = await pageDeliveries(ctx.db, campaignId, { status, afterSeq, limit: EXPORT_PAGE });
    yield* rows;
    if (rows.length < EXPORT_PAGE) return;
    afterSeq = rows.at(-1)!.seq;
  }
}
