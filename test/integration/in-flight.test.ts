import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, people } from '../support/harness.js';

const CONNECTIONS = 3;

describe('in flight means inside an SMTP transaction', () => {
  let h: Harness;
  // Messages to held* stay inside their SMTP transaction until the test lets go.
  let release = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    h = await Harness.start({
      sink: { dataDelayMs: 150, holdData: (address) => (address.startsWith('held') ? held : undefined) },
      // Many windows at once, each reserving rows as connections free: some always wait for one.
      env: {
        HOLD_WINDOW_SECONDS: '0',
        SMTP_MAX_CONNECTIONS: String(CONNECTIONS),
        WORKER_CONCURRENCY: '8',
        DELIVERY_BATCH_SIZE: '5',
        DELIVERY_CLAIM_SIZE: '20',
      },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(async () => {
    release();
    await h?.stop();
  });

  it('the ledger counts a message sent within a fraction of a second of the server accepting it', async () => {
    const { id } = await h.approvedCampaign({ subject: 'Keeping up', recipients: people(12, 'keep') });
    const seen: { at: number; sent: number }[] = [];
    await h.until(
      async () => {
        const row = await h.db
          .selectFrom('deliveries')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('campaign_id', '=', id)
          .where('status', '=', 'sent')
          .executeTakeFirstOrThrow();
        seen.push({ at: Date.now(), sent: Number(row.n) });
        return Number(row.n);
      },
      (n) => n === 12,
      'all twelve sent in the ledger',
    );
    const accepted = h.sink
      .withSubject('Keeping up')
      .map((m) => m.receivedAt.getTime())
      .sort((a, b) => a - b);
    expect(accepted).toHaveLength(12);
    // For the k-th acceptance, the first time the ledger showed k sent: the server's 150 ms per
    // message would let a ledger written per group of claims trail by a second and more.
    const lags = accepted.map((at, k) => seen.find((s) => s.sent >= k + 1)!.at - at);
    expect(Math.max(...lags)).toBeLessThan(800);
  });

  it('a halt lets through only the transactions already started, at most one per connection', async () => {
    const { id } = await h.approvedCampaign({ subject: 'Slow relay', recipients: people(60, 'slow') });
    await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.deliveries.sent >= 6,
      'the send under way',
    );
    const halted = await h.api('author', 'POST', `/campaigns/${id}/halt`);
    const haltedAt = Date.now();
    expect(halted.body.inFlight).toBeLessThanOrEqual(CONNECTIONS);
    const state = await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.deliveries.sending === 0,
      'the in-flight transactions to end',
    );
    const arrivals = h.sink.withSubject('Slow relay');
    const after = arrivals.filter((m) => m.receivedAt.getTime() > haltedAt);
    expect(after.length).toBeLessThanOrEqual(halted.body.inFlight);
    expect(state.body.deliveries.sent).toBe(arrivals.length);
    expect(state.body.deliveries.halted).toBe(60 - arrivals.length);
  });

  it('a recall in the first moments, with messages in flight and none yet recorded, is accepted; the correction reaches exactly who got the original', async () => {
    const { id } = await h.approvedCampaign({ subject: 'First moments', recipients: people(10, 'held') });
    await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.deliveries.sending === CONNECTIONS,
      'three messages inside their transactions',
    );
    const recall = await h.api('author', 'POST', `/campaigns/${id}/recall`, { note: 'Sorry.' });
    expect(recall.status).toBe(201);
    expect(recall.body.halt).toMatchObject({ inFlight: CONNECTIONS, stopped: 10 - CONNECTIONS });
    expect(recall.body.original).toEqual({ sent: 0, unknown: 0, inFlight: CONNECTIONS });
    const correction = recall.body.correction;
    expect(correction).toMatchObject({
      status: 'pending_approval',
      recipientCount: 0,
      correctionAudience: { receivedOriginal: 0, originalInFlight: CONNECTIONS },
    });

    await h.sink.waitUntil(() => h.approvalLinks('Re: First moments').size === 2, 30_000, 'the correction approval requests');
    const page = await (await fetch(h.approvalLinks('Re: First moments').get(h.users.alice!.email)!)).text();
    expect(page).toContain('0 received the original so far, 3 still in flight');
    await h.approveCampaign(correction.id, correction.contentHash);

    release();
    await h.waitForStatus(correction.id, 'sent');
    const originals = h.sink
      .withSubject('First moments')
      .map((m) => m.envelopeTo[0])
      .sort();
    expect(originals).toHaveLength(CONNECTIONS);
    const corrections = h.sink.withSubject('Re: First moments');
    expect(corrections.map((m) => m.envelopeTo[0]).sort()).toEqual(originals);
    expect(corrections[0]!.parsed.inReplyTo).toBe(
      h.sink.withSubject('First moments').find((m) => m.envelopeTo[0] === corrections[0]!.envelopeTo[0])!.parsed.messageId,
    );
  });

  it('a recall of a campaign that reached nobody and has nothing in flight is refused and changes nothing', async () => {
    const id = await h.createCampaign({
      subject: 'Never went',
      recipients: people(3, 'never'),
      sendAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    await h.approveCampaign(id, await h.submitCampaign(id));
    expect((await h.api('author', 'POST', `/campaigns/${id}/halt`)).status).toBe(200);
    const refused = await h.api('author', 'POST', `/campaigns/${id}/recall`, {});
    expect(refused.status).toBe(409);
    expect(refused.body.error).toBe('not_recallable');
    const after = (await h.api('author', 'GET', `/campaigns/${id}`)).body;
    expect(after.correctionCampaignId).toBeNull();
    expect((await h.api('author', 'GET', `/campaigns/${id}/audit`)).body.events.map((e: { action: string }) => e.action)).not.toContain(
      'campaign.recall',
    );
  });
});
