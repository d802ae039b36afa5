import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
