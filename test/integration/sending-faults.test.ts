import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { beginDeliveries, reserveDeliveries } from '../../src/db/deliveries.js';
import { sweep } from '../../src/services/repair.js';
import { deliverWindow, deliveryTools, startCampaign } from '../../src/services/sending.js';
import { Harness, people } from '../support/harness.js';

async function approved(h: Harness, subject: string, recipients: { email: string; name: string }[]) {
  const approved = await h.approvedCampaign({ subject, recipients });
  expect(['scheduled', 'sending', 'sent']).toContain(approved.status);
  return approved;
}

describe('SMTP failures', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      sink: {
        rcptFault: (address, attempt) => {
          if (address.startsWith('busy') && attempt === 1) return { code: 451, message: 'Try again later' };
          if (address.startsWith('gone')) return { code: 550, message: 'No such mailbox' };
          if (address.startsWith('bad')) return { code: 550, message: 'User unknown' };
          return null;
        },
      },
      env: {
        AUTO_HALT_MIN_ATTEMPTS: '20',
        AUTO_HALT_FAILURE_RATE: '0.3',
        DELIVERY_BATCH_SIZE: '10',
        SMTP_MAX_CONNECTIONS: '2',
        WORKER_CONCURRENCY: '1',
        DELIVERY_CLAIM_SIZE: '2',
      },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it('retries temporary failures and records permanent ones with the server reply', async () => {
    const { id } = await approved(h, 'Mixed fortunes', [...people(5, 'ok'), ...people(3, 'busy'), ...people(2, 'gone')]);
    await h.waitForStatus(id, 'sent', 60_000);
    const rows = (await h.api('author', 'GET', `/campaigns/${id}/deliveries`)).body.deliveries as {
      email: string;
      status: string;
      attempts: number;
      smtpResponse: string;
    }[];
    expect(rows).toHaveLength(10);
    const busy = rows.filter((r) => r.email.startsWith('busy'));
    expect(busy).toHaveLength(3);
    for (const row of busy) expect(row).toMatchObject({ status: 'sent', attempts: 2 });
    const gone = rows.filter((r) => r.email.startsWith('gone'));
    expect(gone).toHaveLength(2);
    for (const row of gone) {
      expect(row.status).toBe('failed');
      expect(row.smtpResponse).toMatch(/550.*No such mailbox/);
    }
    const sent = rows.filter((r) => r.status === 'sent').map((r) => r.email);
    expect(sent).toHaveLength(8);
    expect(
      h.sink
        .withSubject('Mixed fortunes')
        .map((m) => m.envelopeTo[0])
        .sort(),
    ).toEqual(sent.sort());
  });

  it('halts a campaign by itself when permanent failures pass the configured share, and tells its people', async () => {
    const { id } = await approved(h, 'Stale list', [...people(30, 'bad'), ...people(70, 'fine')]);
    const state = await h.until(
      () => h.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.status === 'halted' && r.body.deliveries.sending === 0,
      'auto halt',
    );
    expect(state.body.haltReason).toMatch(/failed permanently, more than 30%/);
    expect(state.body.deliveries.halted).toBeGreaterThan(0);
    await h.sink.waitUntil(() => h.sink.withSubject('Halted automatically: Stale list').length === 3, 30_000, 'halt notices');
    expect(
      h.sink
        .withSubject('Halted automatically: Stale list')
        .map((m) => m.envelopeTo[0])
        .sort(),
    ).toEqual([h.users.alice!.email, h.users.author!.email, h.users.bob!.email].sort());
  });
});

describe('a worker that dies inside the SMTP hand-off', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false, env: { HOLD_WINDOW_SECONDS: '0' } });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it('leaves the row unknown, never resends it, and includes it in a correction', async () => {
    const { id, contentHash } = await approved(h, 'Crash course', people(6, 'crash'));
    expect(await startCampaign(h.ctx, { campaignId: id, contentHash })).toBe('started');
    // A worker starts the SMTP transactions of two rows and dies before it can record anything.
    const claimed = await reserveDeliveries(h.db, {
      campaignId: id,
      contentHash,
      fromSeq: 1,
      toSeq: 6,
      limit: 2,
      messageIdDomain: 'example.com',
      token: 'dead',
      staleSeconds: 10,
    });
    expect(claimed).toHaveLength(2);
    expect(
      await beginDeliveries(
        h.db,
        id,
        contentHash,
        claimed.map((row) => ({ seq: row.seq, token: 'dead' })),
      ),
    ).toHaveLength(2);
    await h.db
      .updateTable('deliveries')
      .set({ claimed_at: new Date(Date.now() - 3600_000) })
      .where('campaign_id', '=', id)
      .where('status', '=', 'sending')
      .execute();
    expect((await sweep(h.ctx)).markedUnknown).toBe(2);

    const tools = deliveryTools(h.ctx);
    await deliverWindow(h.ctx, tools, { campaignId: id, contentHash, fromSeq: 1, toSeq: 6 });
    await deliverWindow(h.ctx, tools, { campaignId: id, contentHash, fromSeq: 1, toSeq: 6 });
    const received = h.sink.withSubject('Crash course').map((m) => m.envelopeTo[0]);
    expect(received).toHaveLength(4);
    expect(received).not.toContain(claimed[0]!.email);
    const state = await h.api('author', 'GET', `/campaigns/${id}`);
    expect(state.body).toMatchObject({ status: 'sent', deliveries: { sent: 4, unknown: 2 } });

    const recall = await h.api('author', 'POST', `/campaigns/${id}/recall`, {});
    expect(recall.body.correctionAudience).toBe(6);
    expect(recall.body.correction.recipientCount).toBe(6);
  });
});
