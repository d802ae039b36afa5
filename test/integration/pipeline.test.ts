import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';

const RECIPIENTS = 500;
const departments = ['Finance', 'Legal', 'Engineering', 'Sales', 'People'];
const csv = [
  'email,name,department',
  ...Array.from(
    { length: RECIPIENTS },
    (_, i) => `Employee${i}@Corp.example.com,Person${i} Number${i},${departments[i % departments.length]}`,
  ),
].join('\n');

describe('a policy email from CSV list to 500 inboxes', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ env: { HOLD_WINDOW_SECONDS: '2', DELIVERY_BATCH_SIZE: '40' } });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin']);
  });
  afterAll(() => h?.stop());

  it('is approved through two emailed links and sends once to each recipient at its time', async () => {
    const list = await h.api('author', 'POST', '/lists', { name: 'All staff' });
    expect(list.status).toBe(201);
    const imported = await h.api('author', 'POST', `/lists/${list.body.id}/members`, csv, { 'content-type': 'text/csv' });
    expect(imported.body).toMatchObject({ imported: RECIPIENTS, memberCount: RECIPIENTS });

    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Policy update for {{firstName}}',
      body: '# Travel policy\n\nHello {{firstName}},\n\nThe {{department}} team follows the new travel policy from Monday.',
      audience: { listIds: [list.body.id] },
      sendAt: new Date(Date.now() + 1000).toISOString(),
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    const submitted = await h.api('author', 'POST', `/campaigns/${id}/submit`);
    expect(submitted.status).toBe(200);
    expect(submitted.body).toMatchObject({ status: 'pending_approval', recipientCount: RECIPIENTS });
    const contentHash = submitted.body.contentHash as string;
    expect(contentHash).toMatch(/^[0-9a-f]{64}$/);

    const selfApproval = await h.api('author', 'POST', `/campaigns/${id}/approve`, { contentHash });
    expect(selfApproval.status).toBe(403);

    await h.sink.waitUntil(() => h.approvalLinks('Policy update for {{firstName}}').size === 2, 30_000, 'two approval requests');
    const links = h.approvalLinks('Policy update for {{firstName}}');
    const aliceLink = links.get(h.users.alice!.email)!;
    const bobLink = links.get(h.users.bob!.email)!;
    expect(aliceLink).toBeDefined();
    expect(bobLink).toBeDefined();

    const page = await fetch(aliceLink);
    expect(page.status).toBe(200);
    const pageText = await page.text();
    expect(pageText).toContain('500');
    expect(pageText).toContain('employee0@corp.example.com');
    expect((await fetch(aliceLink, { method: 'HEAD' })).status).toBe(200);

    // Without the approver's session (a scanner submitting the form) nothing is decided.
    const anonymous = await fetch(aliceLink, { method: 'POST', body: new URLSearchParams({ decision: 'approve', recipientCount: '500' }) });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.text()).toContain('Nothing was decided');
    const alice = await h.signIn('alice');
    const csrf = await alice.csrf(aliceLink);
    const form = (fields: Record<string, string>) => alice.post(aliceLink, { _csrf: csrf, ...fields });
    expect((await form({ decision: 'approve' })).status).toBe(400);
    expect((await form({ decision: 'approve', recipientCount: '499' })).status).toBe(400);
    expect((await alice.post(aliceLink, { decision: 'approve', recipientCount: '500' })).status).toBe(403);
    let state = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(state.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 0, required: 2 } });

    const aliceDecision = await form({ decision: 'approve', recipientCount: '500' });
    expect(aliceDecision.status).toBe(200);
    expect((await form({ decision: 'approve', recipientCount: '500' })).status).toBe(409);
    state = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(state.body).toMatchObject({ status: 'pending_approval', approvals: { approved: 1 } });

    // Alice's session cannot use Bob's link.
    expect((await alice.post(bobLink, { _csrf: csrf, decision: 'approve', recipientCount: '500' })).status).toBe(403);
    const bob = await h.signIn('bob');
    const bobDecision = await bob.post(bobLink, { _csrf: await bob.csrf(bobLink), decision: 'approve', recipientCount: '500' });
    expect(bobDecision.status).toBe(200);
    const quorumAt = Date.now();
    state = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(state.body.status).toBe('scheduled');
    const scheduledFor = new Date(state.body.scheduledFor as string);
    expect(scheduledFor.getTime()).toBeGreaterThanOrEqual(quorumAt - 1000 + 2000);

    const policyMail = () => h.sink.withSubject(/^Policy update for /);
    expect(policyMail()).toHaveLength(0);
    await h.sink.waitUntil(() => policyMail().length >= RECIPIENTS, 60_000, 'all policy messages');
    await h.waitForStatus(id, 'sent');

    const received = policyMail();
    expect(received).toHaveLength(RECIPIENTS);
    const byRecipient = new Map(received.map((m) => [m.envelopeTo[0]!, m]));
    expect(byRecipient.size).toBe(RECIPIENTS);
    expect(new Set(received.map((m) => m.parsed.messageId)).size).toBe(RECIPIENTS);
    for (let i = 0; i < RECIPIENTS; i++) {
      const message = byRecipient.get(`employee${i}@corp.example.com`);
      expect(message, `message to employee${i}`).toBeDefined();
      expect(message!.envelopeTo).toHaveLength(1);
      expect(message!.parsed.subject).toBe(`Policy update for Person${i}`);
      expect(message!.parsed.text).toContain(`Hello Person${i},`);
      expect(message!.parsed.text).toContain(`The ${departments[i % departments.length]} team`);
      expect(message!.parsed.html).toContain(`Hello Person${i},`);
      expect(message!.receivedAt.getTime()).toBeGreaterThanOrEqual(scheduledFor.getTime());
      expect(message!.parsed.headers.get('auto-submitted')).toBe('auto-generated');
      expect(message!.parsed.headers.get('x-auto-response-suppress')).toBe('OOF, AutoReply');
      expect(message!.raw.toString()).toMatch(
        /^List-Id: "Countersign: internal-comms@example.com" <internal-comms\.countersign\.example\.com>\r?$/im,
      );
    }

    const ledger = await h.api('author', 'GET', `/campaigns/${id}/deliveries?limit=1000`);
    expect(ledger.body.deliveries).toHaveLength(RECIPIENTS);
    for (const row of ledger.body.deliveries as { email: string; status: string; messageId: string }[]) {
      expect(row.status).toBe('sent');
      expect(byRecipient.get(row.email)!.parsed.messageId).toBe(row.messageId);
    }
    const exported = await h.api('author', 'GET', `/campaigns/${id}/deliveries?format=csv`);
    expect(exported.text.trim().split('\n')).toHaveLength(RECIPIENTS + 1);

    const final = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(final.body.deliveries).toMatchObject({ sent: RECIPIENTS, queued: 0, sending: 0, failed: 0 });
    const audit = await h.api('author', 'GET', `/campaigns/${id}/audit`);
    expect((audit.body.events as { action: string }[]).map((e) => e.action)).toEqual([
      'campaign.create',
      'campaign.submit',
      'campaign.approve',
      'campaign.approve',
      'campaign.schedule',
      'campaign.start',
      'campaign.sent',
    ]);
    const verify = await h.api('admin', 'GET', '/audit/verify');
    expect(verify.body).toMatchObject({ ok: true });
  });
});
