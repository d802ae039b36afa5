import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, people } from '../support/harness.js';
import type { ReceivedMessage } from '../support/smtp-sink.js';

async function approvedCampaign(h: Harness, subject: string, recipients: { email: string; name: string }[]) {
  const { id, status } = await h.approvedCampaign({ subject, body: 'Hello {{firstName}}, please delete the app today.', recipients });
  // No hold window: the workers may have started it before the approval's answer was read.
  expect(['scheduled', 'sending', 'sent']).toContain(status);
  return id;
}

async function approveCorrection(h: Harness, correction: { id: string; contentHash: string }) {
  expect(await h.approveCampaign(correction.id, correction.contentHash)).toMatch(/scheduled|sending|sent/);
}

const recipientsOf = (messages: ReceivedMessage[]) => new Set(messages.map((m) => m.envelopeTo[0]!));

describe('halt mid-send and recall with a threaded correction', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      sink: { dataDelayMs: 15 },
      env: { SMTP_MAX_CONNECTIONS: '4', WORKER_CONCURRENCY: '2', DELIVERY_BATCH_SIZE: '100' },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it('after a halt returns, nothing beyond the counted in-flight messages arrives; the ledger matches the server', async () => {
    const total = 2000;
    const audience = people(total, 'halt');
    // Suppressed people all through the list are skipped rows on both sides of where the halt lands.
    const suppressed = audience.filter((_, i) => i % 97 === 5);
    await h.addUser('root', ['admin']);
    const suppression = await h.api(
      'root',
      'POST',
      '/suppressions',
      suppressed.map((p) => ({ email: p.email, kind: 'left', reason: 'left the company' })),
    );
    expect(suppression.status).toBe(200);
    const id = await approvedCampaign(h, 'Delete the app', audience);
    const originals = () => h.sink.withSubject('Delete the app');
    await h.sink.waitUntil(() => originals().length >= 200, 60_000, '200 originals');

    const { inFlight, stopped, campaign, arrivedAfter } = await h.haltAndSettle(
      'author',
      id,
      'wrong instructions',
      () => originals().length,
    );
    expect(stopped).toBeGreaterThan(0);
    expect(arrivedAfter).toBeLessThanOrEqual(inFlight);
    expect(campaign.status).toBe('halted');
    expect(campaign.deliveries.halted).toBe(stopped);
    expect(campaign.deliveries.skipped).toBe(suppressed.length);
    expect(campaign.deliveries.sent + campaign.deliveries.halted + campaign.deliveries.skipped).toBe(total);

    // The halt counts unclaimed rows as halted at once; a worker then rewrites the rows themselves.
    const listing = await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}/deliveries?limit=5000`),
      (r) => (r.body.deliveries as { status: string }[]).every((row) => row.status !== 'queued'),
      'the halted rows to be rewritten',
    );
    const rows = listing.body.deliveries as { email: string; status: string; messageId: string }[];
    expect(rows.filter((r) => r.status === 'halted')).toHaveLength(stopped);
    const sentRows = rows.filter((r) => r.status === 'sent');
    expect(new Set(sentRows.map((r) => r.email))).toEqual(recipientsOf(originals()));
    expect(originals()).toHaveLength(sentRows.length);
    const byEmail = new Map(originals().map((m) => [m.envelopeTo[0]!, m]));
    for (const row of sentRows) expect(byEmail.get(row.email)!.parsed.messageId).toBe(row.messageId);

    // Recall: the correction reaches exactly those the server saw receive the original, threaded on each one's own message.
    // Retraction is off unless the organisation turns it on; asking for it changes nothing (the recall below still works).
    const retract = await h.api('author', 'POST', `/campaigns/${id}/recall`, { retract: true });
    expect(retract.status).toBe(409);
    expect(retract.body).toMatchObject({ error: 'retraction_off', message: expect.stringContaining('retraction: { allowed: true }') });
    const recall = await h.api('author', 'POST', `/campaigns/${id}/recall`, { note: 'Keep the app installed.' });
    expect(recall.status).toBe(201);
    expect(recall.body.retraction).toBeNull();
    expect(recall.body.original.sent).toBe(sentRows.length);
    expect(recall.body.correctionAudience).toBe(sentRows.length);
    const correction = recall.body.correction;
    expect(correction).toMatchObject({
      kind: 'correction',
      status: 'pending_approval',
      originalCampaignId: id,
      recipientCount: sentRows.length,
      subject: 'Re: Delete the app',
    });
    expect(correction.correctionAudience).toMatchObject({ receivedOriginal: sentRows.length, willReach: sentRows.length });
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.correctionCampaignId).toBe(correction.id);
    const again = await h.api('author', 'POST', `/campaigns/${id}/recall`, {});
    expect(again.status).toBe(409);

    await approveCorrection(h, correction);
    await h.waitForStatus(correction.id, 'sent', 60_000);
    const corrections = h.sink.withSubject('Re: Delete the app');
    expect(recipientsOf(corrections)).toEqual(recipientsOf(originals()));
    expect(corrections).toHaveLength(originals().length);
    for (const message of corrections) {
      const original = byEmail.get(message.envelopeTo[0]!)!;
      expect(message.parsed.inReplyTo).toBe(original.parsed.messageId);
      expect(message.parsed.references).toEqual(original.parsed.messageId);
      expect(message.parsed.messageId).not.toBe(original.parsed.messageId);
      expect(message.parsed.text!.split('\n')[0]).toContain('was sent in error');
      expect(message.parsed.text).toContain('Keep the app installed.');
    }
    const audit = (await h.api('author', 'GET', `/campaigns/${id}/audit`)).body.events.map((e: { action: string }) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['campaign.halt', 'campaign.recall']));
  });
});

describe('a delivery of the original that lands after the recall', () => {
  let h: Harness;
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let held = 0;

  beforeAll(async () => {
    h = await Harness.start({
      sink: {
        // late0005 and late0006 are inside their SMTP transaction until the test lets them finish.
        holdData: (address) => (/late000[56]@/.test(address) ? (held++, gate) : undefined),
      },
      env: { SMTP_MAX_CONNECTIONS: '3', WORKER_CONCURRENCY: '2', DELIVERY_BATCH_SIZE: '12', DELIVERY_CLAIM_SIZE: '5' },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(async () => {
    release();
    await h?.stop();
  });

  it('gets the correction automatically once the correction is approved', async () => {
    const id = await approvedCampaign(h, 'Office closed', people(12, 'late'));
    await h.sink.waitUntil(() => held === 2, 30_000, 'two deliveries held in their SMTP transaction');
    // The third connection takes everyone else; the ledger records each as the server accepts it.
    await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.deliveries.sent === 10,
      'the other ten in the ledger',
    );

    const halted = await h.api('author', 'POST', `/campaigns/${id}/halt`);
    expect(halted.body).toMatchObject({ inFlight: 2, stopped: 0 });
    const recall = await h.api('author', 'POST', `/campaigns/${id}/recall`, {});
    expect(recall.body.original).toMatchObject({ sent: 10, inFlight: 2 });
    const correction = recall.body.correction;
    expect(correction.recipientCount).toBe(10);

    await approveCorrection(h, correction);
    const corrections = () => h.sink.withSubject('Re: Office closed');
    await h.sink.waitUntil(() => corrections().length === 10, 30_000, 'corrections to the first ten');
    // The correction does not call itself done while deliveries of the original are still in flight.
    expect(await h.campaignStatus(correction.id)).toBe('sending');

    release();
    await h.waitForStatus(correction.id, 'sent', 30_000);
    const originals = h.sink.withSubject('Office closed');
    expect(originals).toHaveLength(12);
    expect(recipientsOf(corrections())).toEqual(recipientsOf(originals));
    expect(corrections()).toHaveLength(12);
    const late = corrections().find((m) => m.envelopeTo[0] === 'late0005@corp.example.com')!;
    expect(late.parsed.inReplyTo).toBe(originals.find((m) => m.envelopeTo[0] === 'late0005@corp.example.com')!.parsed.messageId);
  });
});
