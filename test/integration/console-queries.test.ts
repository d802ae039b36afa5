import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { campaignListModel, deliveryTimeline } from '../../src/services/campaign-pages.js';
import { deliveriesPageModel } from '../../src/services/ledger.js';
import { AppError } from '../../src/services/errors.js';
import { Harness } from '../support/harness.js';

/** The console's reads on this database: chart buckets, searches that take `%` and `_` literally, paging, and the session CSV. */
describe('the console queries', () => {
  let h: Harness;
  let campaignId: string;
  const start = Date.parse('2030-01-02T09:00:00.000Z');

  beforeAll(async () => {
    // Workers stay off: the ledger is written here as a send would leave it.
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
    campaignId = await h.createCampaign({ subject: '100% of staff_notice', recipients: [{ email: 'x@corp.example.com', name: 'X' }] });
    const rows = [
      // 0–4 s: three sent and one failed; 60 s: one sent; 125 s: one unknown; one stopped, which is no moment on the chart.
      ...[0, 1, 4].map((s, i) => ({ seq: i + 1, email: `sent${i}@corp.example.com`, status: 'sent' as const, at: s })),
      { seq: 4, email: 'fail_1@corp.example.com', status: 'failed' as const, at: 3 },
      { seq: 5, email: 'fail%1@corp.example.com', status: 'sent' as const, at: 60 },
      { seq: 6, email: 'failx1@corp.example.com', status: 'unknown' as const, at: 125 },
      { seq: 7, email: 'halted@corp.example.com', status: 'halted' as const, at: 200 },
    ];
    await h.db
      .insertInto('deliveries')
      .values(
        rows.map((r) => ({
          campaign_id: campaignId,
          seq: r.seq,
          email: r.email,
          name: r.email.split('@')[0]!,
          fields: '{}',
          status: r.status,
          finished_at: new Date(start + r.at * 1000),
        })),
      )
      .execute();
    await h.db.updateTable('campaigns').set({ status: 'halted', recipient_count: rows.length }).where('id', '=', campaignId).execute();
  });
  afterAll(() => h?.stop());

  it('buckets outcomes over time in SQL, empty buckets included, in the narrowest bucket that fits 60 bars', async () => {
    const timeline = (await deliveryTimeline(h.ctx, campaignId))!;
    expect(timeline.bucketSeconds).toBe(5);
    expect(timeline.bucketLabel).toBe('per 5 seconds');
    expect(timeline.buckets).toHaveLength(26);
    expect(timeline.totals).toEqual({ sent: 4, failed: 1, unknown: 1 });
    const at = (s: number) => timeline.buckets.find((b) => b.start.getTime() === start + s * 1000);
    expect(at(0)).toMatchObject({ sent: 3, failed: 1, unknown: 0 });
    expect(at(60)).toMatchObject({ sent: 1, failed: 0, unknown: 0 });
    expect(at(125)).toMatchObject({ sent: 0, failed: 0, unknown: 1 });
    expect(at(5)).toMatchObject({ sent: 0, failed: 0, unknown: 0 });
  });

  it('searches deliveries by address with % and _ taken literally, filters by status and pages by position', async () => {
    const emails = async (query: Record<string, string>) => (await deliveriesPageModel(h.ctx, campaignId, query)).rows.map((r) => r.email);
    expect(await emails({ q: 'FAIL_' })).toEqual(['fail_1@corp.example.com']);
    expect(await emails({ q: 'fail%' })).toEqual(['fail%1@corp.example.com']);
    expect(await emails({ q: 'fail', status: 'unknown' })).toEqual(['failx1@corp.example.com']);
    expect(await emails({ q: '', status: '', after: '5' })).toEqual(['failx1@corp.example.com', 'halted@corp.example.com']);
    await expect(deliveriesPageModel(h.ctx, campaignId, { status: 'lost' })).rejects.toBeInstanceOf(AppError);
  });

  it('searches, filters and pages the campaign list beyond its first page', async () => {
    expect((await campaignListModel(h.ctx, { q: '100%' })).items.map((i) => i.campaign.subject)).toEqual(['100% of staff_notice']);
    expect((await campaignListModel(h.ctx, { q: '100x' })).total).toBe(0);
    expect((await campaignListModel(h.ctx, { q: 'staff_' })).total).toBe(1);
    for (let i = 0; i < 51; i++) await h.createCampaign({ subject: `Draft ${i}` });
    const second = await campaignListModel(h.ctx, { status: 'draft', page: '2' });
    expect(second).toMatchObject({ total: 51, pageSize: 50 });
    expect(second.items.map((i) => i.campaign.subject)).toEqual(['Draft 0']);
    const halted = await campaignListModel(h.ctx, { status: 'halted', kind: 'policy', author: h.users.author!.id });
    expect(halted.items).toHaveLength(1);
    expect(halted.items[0]!.breakdown.summary).toBe('Halted: 4 of 7 sent; 1 failed, 1 unknown (may have arrived), 1 stopped by the halt.');
    await expect(campaignListModel(h.ctx, { page: '0' })).rejects.toBeInstanceOf(AppError);
    // The API finds the same way.
    const api = await h.api(
      'bob',
      'GET',
      `/campaigns?q=${encodeURIComponent('100%')}&kind=policy&author=${h.users.author!.id}&status=halted`,
    );
    expect(api.body.campaigns.map((c: { id: string }) => c.id)).toEqual([campaignId]);
    expect((await h.api('bob', 'GET', '/campaigns?kind=correction')).body.campaigns).toEqual([]);
    expect((await h.api('bob', 'GET', '/campaigns?kind=other')).status).toBe(400);
  });

  it('streams the ledger as CSV to a signed-in browser, and sends anyone else to sign in', async () => {
    const browser = await h.signIn('alice');
    const response = await browser.get(`/campaigns/${campaignId}/deliveries.csv?q=fail&status=failed`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename=deliveries-${campaignId}.csv`);
    const lines = (await response.text()).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatch(/^4,fail_1@corp\.example\.com,fail_1,failed,/);
    const stranger = await fetch(`${h.baseUrl}/campaigns/${campaignId}/deliveries.csv`, { redirect: 'manual' });
    expect(stranger.status).toBe(303);
    expect(stranger.headers.get('location')).toMatch(/^\/sign-in\?returnTo=/);
  });
});
