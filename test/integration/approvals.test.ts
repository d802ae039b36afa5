import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverWindow, deliveryTools, startCampaign } from '../../src/services/sending.js';
import { startJobId } from '../../src/queue/jobs.js';
import { Harness, people } from '../support/harness.js';

describe('approvals bound to content, cancel and duplicate jobs', () => {
  let h: Harness;

  beforeAll(async () => {
    // Workers stay off: each test drives the queue steps itself, deterministically.
    h = await Harness.start({ workers: false, env: { HOLD_WINDOW_SECONDS: '3600' } });
    await h.addAuthorAndApprovers();
    await h.addUser('carol', ['approver', 'author']);
    await h.addUser('admin', ['admin']);
  });
  afterAll(() => h?.stop());

  async function submitted(tag: string, count = 3) {
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: `Notice ${tag}`,
      body: 'Hello {{firstName}}',
      audience: { recipients: people(count, tag) },
    });
    const result = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    expect(result.status).toBe(200);
    return result.body as { id: string; contentHash: string };
  }

  it('voids an approval when the campaign is edited, and the old version can no longer be approved', async () => {
    const campaign = await submitted('edit');
    const first = await h.api('alice', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: campaign.contentHash });
    expect(first.body.approvals).toMatchObject({ approved: 1, required: 2 });

    const edited = await h.api('carol', 'PATCH', `/campaigns/${campaign.id}`, { body: 'Hello {{firstName}}, corrected.' });
    expect(edited.status).toBe(200);
    expect(edited.body.status).toBe('draft');
    expect(edited.body.approvals.approved).toBe(0);
    expect(edited.body.decisions).toEqual([expect.objectContaining({ decision: 'approve', voided: true, voidReason: 'edited' })]);

    const resubmitted = await h.api('author', 'POST', `/campaigns/${campaign.id}/submit`);
    expect(resubmitted.body.contentHash).not.toBe(campaign.contentHash);
    const stale = await h.api('bob', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: campaign.contentHash });
    expect(stale.status).toBe(409);
    expect(stale.body.error).toBe('stale_hash');
    // Carol edited this version: she is not an independent reviewer of it.
    const byEditor = await h.api('carol', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: resubmitted.body.contentHash });
    expect(byEditor.status).toBe(403);
    expect(byEditor.body.error).toBe('editor');

    const a = await h.api('alice', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: resubmitted.body.contentHash });
    expect(a.body.status).toBe('pending_approval');
    const twice = await h.api('alice', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: resubmitted.body.contentHash });
    expect(twice.status).toBe(409);
    expect(twice.body.error).toBe('duplicate');
    const b = await h.api('bob', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: resubmitted.body.contentHash });
    expect(b.body.status).toBe('scheduled');
  });

  describe('an edit to any frozen field voids the approval given so far and needs a fresh one', () => {
    const dana = { email: 'dana@corp.example.com', name: 'Dana Scully' };
    const eve = { email: 'eve@corp.example.com', name: 'Eve Harper' };
    let staff: string;
    let contractors: string;

    beforeAll(async () => {
      const list = async (name: string, members: { email: string; name: string }[]) => {
        const created = await h.api('author', 'POST', '/lists', { name });
        expect((await h.api('author', 'POST', `/lists/${created.body.id}/members`, members)).body).toMatchObject({
          memberCount: members.length,
        });
        return created.body.id as string;
      };
      staff = await list('Frozen staff', people(2, 'frozen-staff'));
      contractors = await list('Frozen contractors', people(2, 'frozen-contractor'));
    });

    const original = () => ({
      subject: 'Frozen fields',
      body: 'Hello {{firstName}}, the office closes at noon.',
      fromAddress: 'comms@corp.example.com',
      fromName: 'Internal Comms',
      sendAt: '2030-01-06T09:00:00.000Z',
      audience: { listIds: [staff], recipients: [dana] },
    });

    const edits: [string, () => Record<string, unknown>][] = [
      ['subject', () => ({ subject: 'Frozen fields (corrected)' })],
      ['body', () => ({ body: 'Hello {{firstName}}, the office closes at 1 pm.' })],
      ['fromAddress', () => ({ fromAddress: 'facilities@corp.example.com' })],
      ['fromName', () => ({ fromName: 'Facilities' })],
      ['sendAt, moved', () => ({ sendAt: '2030-01-06T10:00:00.000Z' })],
      ['sendAt, cleared', () => ({ sendAt: null })],
      ['audience, a list added', () => ({ audience: { listIds: [staff, contractors], recipients: [dana] } })],
      ['audience, a list removed', () => ({ audience: { listIds: [], recipients: [dana] } })],
      ['audience, a recipient added', () => ({ audience: { listIds: [staff], recipients: [dana, eve] } })],
      [
        'audience, a recipient renamed (same count)',
        () => ({ audience: { listIds: [staff], recipients: [{ ...dana, name: 'Dana K. Scully' }] } }),
      ],
    ];

    /** Submitted, approved by alice (one of the two needed), then edited by its author. */
    async function approvedOnceThenEdited(edit: Record<string, unknown>) {
      const created = await h.api('author', 'POST', '/campaigns', original());
      expect(created.status, created.text).toBe(201);
      const id = created.body.id as string;
      const first = await h.api('author', 'POST', `/campaigns/${id}/submit`);
      expect(first.status, first.text).toBe(200);
      const approved = await h.api('alice', 'POST', `/campaigns/${id}/approve`, { contentHash: first.body.contentHash });
      expect(approved.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 1, required: 2 } });

      const edited = await h.api('author', 'PATCH', `/campaigns/${id}`, edit);
      expect(edited.status, edited.text).toBe(200);
      const state = await h.api('author', 'GET', `/campaigns/${id}`);
      expect(state.body).toMatchObject({ status: 'draft', contentHash: null, approvals: { approved: 0, approvedBy: [] } });
      expect(state.body.decisions).toEqual([
        expect.objectContaining({
          approver: expect.objectContaining({ email: h.users.alice!.email }),
          decision: 'approve',
          contentHash: first.body.contentHash,
          voided: true,
        }),
      ]);
      return { id, firstHash: first.body.contentHash as string };
    }

    it.each(edits)('%s', async (_field, edit) => {
      const { id, firstHash } = await approvedOnceThenEdited(edit());

      const resubmitted = await h.api('author', 'POST', `/campaigns/${id}/submit`);
      expect(resubmitted.status, resubmitted.text).toBe(200);
      expect(resubmitted.body.status).toBe('pending_approval');
      expect(resubmitted.body.contentHash).toMatch(/^[0-9a-f]{64}$/);
      expect(resubmitted.body.contentHash).not.toBe(firstHash);

      const stale = await h.api('bob', 'POST', `/campaigns/${id}/approve`, { contentHash: firstHash });
      expect(stale.status).toBe(409);
      expect(stale.body.error).toBe('stale_hash');
      expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.approvals).toMatchObject({ approved: 0 });

      // The current version takes approvals afresh: alice's earlier one does not count towards it.
      const fresh = await h.api('bob', 'POST', `/campaigns/${id}/approve`, { contentHash: resubmitted.body.contentHash });
      expect(fresh.status, fresh.text).toBe(200);
      expect(fresh.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 1, approvedBy: [h.users.bob!.id] } });
    });

    it('an edit that changes nothing still voids the approval, and resubmitting gives the same hash', async () => {
      const { id, firstHash } = await approvedOnceThenEdited({ subject: original().subject });
      const resubmitted = await h.api('author', 'POST', `/campaigns/${id}/submit`);
      expect(resubmitted.body.contentHash).toBe(firstHash);
      expect((await h.api('author', 'GET', `/campaigns/${id}`)).body).toMatchObject({
        status: 'pending_approval',
        approvals: { approved: 0 },
      });
    });
  });

  it('a link for an edited version says so and decides nothing', async () => {
    const campaign = await submitted('link');
    await h.flushNotifications();
    expect(h.approvalLinks('Notice link').size).toBe(3);
    const link = h.approvalLinks('Notice link').get(h.users.alice!.email)!;
    await h.api('author', 'PATCH', `/campaigns/${campaign.id}`, { subject: 'Notice link v2' });
    await h.api('author', 'POST', `/campaigns/${campaign.id}/submit`);

    const page = await fetch(link);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('edited after this link was sent');
    const alice = await h.signIn('alice');
    const post = await alice.post(link, { _csrf: await alice.csrf('/'), decision: 'approve', recipientCount: '3' });
    expect(post.status).toBe(409);
    const state = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    expect(state.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 0 } });
  });

  it('one rejection returns the campaign to its author as a draft', async () => {
    const campaign = await submitted('reject');
    const noReason = await h.api('alice', 'POST', `/campaigns/${campaign.id}/reject`, {});
    expect(noReason.status).toBe(400);
    const rejected = await h.api('alice', 'POST', `/campaigns/${campaign.id}/reject`, { reason: 'Wrong date' });
    expect(rejected.body.status).toBe('draft');
    expect(rejected.body.decisions).toEqual([expect.objectContaining({ decision: 'reject', reason: 'Wrong date' })]);
  });

  it('cancel during the hold window sends nothing, even if the start job fires anyway', async () => {
    const campaign = await submitted('cancel');
    await h.api('alice', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: campaign.contentHash });
    const scheduled = await h.api('bob', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: campaign.contentHash });
    expect(scheduled.body.status).toBe('scheduled');
    expect(new Date(scheduled.body.scheduledFor).getTime()).toBeGreaterThan(Date.now() + 3000_000);
    expect(await h.ctx.queues.dispatch.getJob(startJobId(campaign.id, campaign.contentHash))).toBeDefined();

    const cancelled = await h.api('author', 'POST', `/campaigns/${campaign.id}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    expect(await h.ctx.queues.dispatch.getJob(startJobId(campaign.id, campaign.contentHash))).toBeUndefined();

    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('skipped');
    const deliveries = await h.api('author', 'GET', `/campaigns/${campaign.id}/deliveries`);
    expect(deliveries.body.deliveries).toEqual([]);
    expect(h.sink.withSubject('Notice cancel')).toHaveLength(0);
    const again = await h.api('author', 'POST', `/campaigns/${campaign.id}/cancel`);
    expect(again.status).toBe(409);
  });

  it('a delivery job run twice, even at the same time, sends each recipient once', async () => {
    const count = 40;
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Notice twice',
      body: 'Hello {{firstName}}',
      audience: { recipients: people(count, 'twice') },
      sendAt: new Date(Date.now() - 1000).toISOString(),
      requiredApprovals: 2,
    });
    const campaign = (await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`)).body;
    await h.api('alice', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: campaign.contentHash });
    await h.api('bob', 'POST', `/campaigns/${campaign.id}/approve`, { contentHash: campaign.contentHash });
    // The hold window of this harness is an hour: bring the schedule forward as if it had passed.
    await h.db
      .updateTable('campaigns')
      .set({ scheduled_for: new Date(Date.now() - 1) })
      .where('id', '=', campaign.id)
      .execute();

    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('started');
    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('refed');
    const tools = deliveryTools(h.ctx);
    const job = { campaignId: campaign.id, contentHash: campaign.contentHash, fromSeq: 1, toSeq: count };
    await Promise.all([deliverWindow(h.ctx, tools, job), deliverWindow(h.ctx, tools, job), deliverWindow(h.ctx, tools, job)]);
    await deliverWindow(h.ctx, tools, job);

    const received = h.sink.withSubject('Notice twice');
    expect(received).toHaveLength(count);
    expect(new Set(received.map((m) => m.envelopeTo[0])).size).toBe(count);
    const state = await h.api('author', 'GET', `/campaigns/${campaign.id}`);
    expect(state.body.status).toBe('sent');
    expect(state.body.deliveries).toMatchObject({ sent: count, queued: 0, sending: 0 });
  });
});
