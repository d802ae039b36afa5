import { z } from 'zod';
import type { DeliveryView } from '../domain/api-shapes.js';
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
export async function deliveriesPage(
  ctx: AppContext,
  campaignId: string,
  page: LedgerFilter & { afterSeq: number; limit: number },
): Promise<DeliveryView[]> {
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

/** The whole ledger (or what a filter keeps of it) a page at a time, for an export that never holds it all in memory. */
export async function* everyDelivery(ctx: AppContext, campaignId: string, filter: LedgerFilter = {}): AsyncGenerator<DeliveryView> {
  let afterSeq = 0;
  for (;;) {
    const rows = await deliveriesPage(ctx, campaignId, { ...filter, afterSeq, limit: EXPORT_PAGE });
    yield* rows;
    if (rows.length < EXPORT_PAGE) return;
    afterSeq = rows.at(-1)!.seq;
  }
}

export const DELIVERIES_PAGE_SIZE = 50;

/** The deliveries page's search, filter and position, as its form and links send them; its CSV link takes the same. */
export const deliveriesPageQuery = z.object({
  q: z.string().trim().max(200).default(''),
  status: anyIfEmpty(z.enum(DELIVERY_STATUSES)),
  after: pagePosition.default(0),
});
export type DeliveriesPageQuery = z.infer<typeof deliveriesPageQuery>;

export interface DeliveriesPageModel {
  campaign: CampaignRow;
  query: DeliveriesPageQuery;
  rows: DeliveryView[];
  counts: DeliveryCounts;
  /** The seq to continue after, when there may be more. */
  next: number | null;
}

/** A page of one campaign's per-recipient outcomes for the browser, searched and filtered. */
export async function deliveriesPageModel(ctx: AppContext, campaignId: string, rawQuery: unknown): Promise<DeliveriesPageModel> {
  const query = parseInput(deliveriesPageQuery, rawQuery, 'query');
  const campaign = await getCampaign(ctx, campaignId);
  const [rows, counts] = await Promise.all([
    deliveriesPage(ctx, campaign.id, {
      status: query.status,
      search: query.q || undefined,
      afterSeq: query.after,
      limit: DELIVERIES_PAGE_SIZE + 1,
    }),
    countByStatus(ctx.db, campaign.id),
  ]);
  const more = rows.length > DELIVERIES_PAGE_SIZE;
  const shown = rows.slice(0, DELIVERIES_PAGE_SIZE);
  return { campaign, query, rows: shown, counts, next: more ? shown.at(-1)!.seq : null };
}

/** The same filter for a CSV export: the campaign, checked to exist, and what to keep. */
export async function ledgerExport(
  ctx: AppContext,
  campaignId: string,
  rawQuery: unknown,
): Promise<{ campaign: CampaignRow; filter: LedgerFilter }> {
  const query = parseInput(deliveriesPageQuery.omit({ after: true }), rawQuery, 'query');
  const campaign = await getCampaign(ctx, campaignId);
  return { campaign, filter: { status: query.status, search: query.q || undefined } };
}
