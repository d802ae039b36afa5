import { z } from 'zod';
import { DELIVERY_STATUSES, type DeliveryCounts, type DeliveryStatus } from '../domain/delivery.js';
import { pagePosition } from '../domain/inputs.js';
import { countByStatus, pageDeliveries } from '../db/deliveries.js';
import type { CampaignRow } from '../db/schema.js';
import { getCampaign } from './campaigns.js';
import type { AppContext } from './context.js';
import { anyIfEmpty, parseInput } from './errors.js';

const EXPORT_PAGE = 5000;

export interface LedgerFilter {
  status?: DeliveryStatus;
  /** Part of the address, any case. */
  search?: string;
}

/** One page of a campaign's ledger in seq order, after `afterSeq`. */
export function deliveriesPage(ctx: AppContext, campaignId: string, page: LedgerFilter & { afterSeq: number; limit: number }) {
  return pageDeliveries(ctx.db, campaignId, page);
}

export type LedgerRow = Awaited<ReturnType<typeof deliveriesPage>>[number];

/** The whole ledger (or what a filter keeps of it) a page at a time, for an export that never holds it all in memory. */
export async function* everyDelivery(ctx: AppContext, campaignId: string, filter: LedgerFilter = {}): AsyncGenerator<LedgerRow> {
  let afterSeq = 0;
  for (;;) {
    const rows = await pageDeliveries(ctx.db, campaignId, { ...filter, afterSeq, limit: EXPORT_PAGE });
    yield* rows;
    if (rows.length < EXPORT_PAGE) return;
    afterSeq = rows.at(-1)!.seq;
  }
}

export const DELIVERIES_PAGE_SIZE = 50;

/** The deliveries page's search, filter and position, as its form and links send them; the CSV takes the same. */
export const deliveriesQuery = z.object({
  q: z.string().trim().max(200).default(''),
  status: anyIfEmpty(z.enum(DELIVERY_STATUSES)),
  after: pagePosition.default(0),
});
export type DeliveriesQuery = z.infer<typeof deliveriesQuery>;

export interface DeliveriesPageModel {
  campaign: CampaignRow;
  query: DeliveriesQuery;
  rows: LedgerRow[];
  counts: DeliveryCounts;
  /** The seq to continue after, when there may be more. */
  next: number | null;
}

/** A page of one campaign's per-recipient outcomes for the browser, searched and filtered. */
export async function deliveriesPageModel(ctx: AppContext, campaignId: string, rawQuery: unknown): Promise<DeliveriesPageModel> {
  const query = parseInput(deliveriesQuery, rawQuery, 'query');
  const campaign = await getCampaign(ctx, campaignId);
  const [rows, counts] = await Promise.all([
    deliveriesPage(ctx, campaign.id, { status: query.status, search: query.q || undefined, afterSeq: query.after, limit: DELIVERIES_PAGE_SIZE + 1 }),
    countByStatus(ctx.db, campaign.id),
  ]);
  const more = rows.length > DELIVERIES_PAGE_SIZE;
  const shown = rows.slice(0, DELIVERIES_PAGE_SIZE);
  return { campaign, query, rows: shown, counts, next: more ? shown.at(-1)!.seq : null };
}

/** The same filter for a CSV export: the campaign, checked to exist, and what to keep. */
export async function ledgerExport(ctx: AppContext, campaignId: string, rawQuery: unknown): Promise<{ campaign: CampaignRow; filter: LedgerFilter }> {
  const query = parseInput(deliveriesQuery.omit({ after: true }), rawQuery, 'query');
  const campaign = await getCampaign(ctx, campaignId);
  return { campaign, filter: { status: query.status, search: query.q || undefined } };
}
