import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { unheldWindowStarts, untilHeldElsewhereGoesStale } from '../../src/db/deliveries.js';
import { deliverJobId } from '../../src/queue/jobs.js';
import { sweep } from '../../src/services/repair.js';
import { startCampaign } from '../../src/services/sending.js';
import { Harness, people } from '../support/harness.js';

describe('the repair sweep', () => {
  let h: Harness;

  beforeAll(async () => {
    // Workers off: the queue holds exactly what the test and the sweep put there.
    h = await Harness.start({ workers: false, env: { DELIVERY_BATCH_SIZE: '10' } });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it('re-feeds a campaign whose windows Redis lost, however busy the queue is with other campaigns', async () => {
    const busy = await h.approvedCampaign({ subject: 'Busy', recipients: people(30, 'busy') });
    const lost = await h.approvedCampaign({ subject: 'Lost', recipients: people(25, 'lost') });
    for (const c of [busy, lost]) expect(await startCampaign(h.ctx, { campaignId: c.id, contentHash: c.contentHash })).toBe('started');
    const lostJobs = [1, 11, 21].map((from) => deliverJobId(lost.id, lost.contentHash, from));
    for (const id of lostJobs) await h.ctx.queues.deliver.remove(id);
    expect(await Promise.all(lostJobs.map((id) => h.ctx.queues.deliver.getJob(id)))).toEqual([undefined, undefined, undefined]);
    expect(await h.ctx.queues.deliver.getJobCounts('prioritized', 'waiting')).toMatchObject({ prioritized: 3 });

    const repaired = await sweep(h.ctx);
    expect(repaired.restarted).toBeGreaterThanOrEqual(3);
    const back = await Promise.all(lostJobs.map((id) => h.ctx.queues.deliver.getJob(id)));
    expect(back.map((job) => job?.data)).toEqual(
      [1, 11, 21].map((fromSeq) => ({ campaignId: lost.id, contentHash: lost.contentHash, fromSeq, toSeq: fromSeq + 9 })),
    );
    // The busy campaign's windows were there all along: the same ids, nothing added twice.
    expect(await h.ctx.queues.deliver.getJobCounts('prioritized', 'waiting')).toMatchObject({ prioritized: 6 });
  });

  it('finds the windows no live job holds: those with a queued row unreserved, or reserved and not refreshed', async () => {
    const campaign = await h.approvedCampaign({ subject: 'Windows', recipients: people(45, 'windows') });
    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('started');
    const set = (fromSeq: number, toSeq: number, change: ReturnType<typeof sql>) =>
      sql`UPDATE deliveries SET ${change} WHERE campaign_id = ${campaign.id} AND seq BETWEEN ${fromSeq} AND ${toSeq}`.execute(h.ctx.db);
    const unheld = () => unheldWindowStarts(h.ctx.db, campaign.id, 10, 10);
    expect(await unheld()).toEqual([1, 11, 21, 31, 41]);
    // 1-10 all sent; 11-20 all reserved just now; 21-30 reserved but for one row; 31-40 reserved long ago.
    await set(1, 10, sql`status = 'sent'`);
    await set(11, 30, sql`claim_token = 'live', claimed_at = now()`);
    await set(25, 25, sql`claim_token = NULL`);
    await set(31, 40, sql`claim_token = 'dead', claimed_at = now() - interval '1 minute'`);
    expect(await unheld()).toEqual([21, 31, 41]);
    await set(41, 45, sql`status = 'failed'`);
    await set(21, 40, sql`claim_token = 'live', claimed_at = now()`);
    expect(await unheld()).toEqual([]);
  });

  it('tells a job how long until the rows another job holds in its window go stale, and nothing once none are held', async () => {
    const campaign = await h.approvedCampaign({ subject: 'Held elsewhere', recipients: people(20, 'held') });
    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('started');
    const set = (fromSeq: number, toSeq: number, change: ReturnType<typeof sql>) =>
      sql`UPDATE deliveries SET ${change} WHERE campaign_id = ${campaign.id} AND seq BETWEEN ${fromSeq} AND ${toSeq}`.execute(h.ctx.db);
    const wait = (token: string, window = { fromSeq: 1, toSeq: 10 }) =>
      untilHeldElsewhereGoesStale(h.ctx.db, {
        campaignId: campaign.id,
        contentHash: campaign.contentHash,
        ...window,
        token,
        staleSeconds: 10,
      });
    expect(await wait('mine')).toBeNull();
    // Its own reservations, another window's, and stale ones are nobody's to wait for.
    await set(1, 3, sql`claim_token = 'mine', claimed_at = now()`);
    await set(11, 12, sql`claim_token = 'other', claimed_at = now()`);
    await set(4, 4, sql`claim_token = 'dead', claimed_at = now() - interval '1 minute'`);
    expect(await wait('mine')).toBeNull();
    await set(5, 5, sql`claim_token = 'other', claimed_at = now() - interval '4 seconds'`);
    await set(6, 6, sql`claim_token = 'other', claimed_at = now() - interval '2 seconds'`);
    const waitMs = await wait('mine');
    expect(waitMs).toBeGreaterThan(4_000);
    expect(waitMs).toBeLessThanOrEqual(6_000);
    // A row that left the queue is sent or settled by whoever holds it.
    await set(5, 6, sql`status = 'sending'`);
    expect(await wait('mine')).toBeNull();
    await set(5, 6, sql`status = 'queued'`);
    expect(await wait('mine')).not.toBeNull();
    await sql`UPDATE campaigns SET status = 'halted' WHERE id = ${campaign.id}`.execute(h.ctx.db);
    expect(await wait('mine')).toBeNull();
  });
});
