import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockCampaignShared } from '../../src/db/campaigns.js';
import { countByStatus, reserveDeliveries } from '../../src/db/deliveries.js';
import { startCampaign } from '../../src/services/sending.js';
import { Harness, testDb } from '../support/harness.js';

// Lock queues need concurrent connections: PGlite has one.
describe.skipIf(testDb() !== 'postgres')('a halt waits only for the sending work already running', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  const waitingGateLocks = async () => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_locks
      WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
    `.execute(h.db);
    return rows[0]!.n;
  };

  it('a reservation that asks after the halt queues behind it and reserves nothing', async () => {
    const recipients = Array.from({ length: 30 }, (_, i) => ({ email: `gate${i}@corp.example.com`, name: `Gate ${i}` }));
    const created = await h.api('author', 'POST', '/campaigns', { subject: 'Gate', body: 'Hello', audience: { recipients } });
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    const contentHash = submitted.body.contentHash as string;
    for (const approver of ['alice', 'bob']) await h.api(approver, 'POST', `/campaigns/${created.body.id}/approve`, { contentHash });
    const campaignId = created.body.id as string;
    expect(await startCampaign(h.ctx, { campaignId, contentHash })).toBe('started');

    // Sending work in progress (as a fan-out step holds it) keeps the gate shared until released.
    let release!: () => void;
    let held!: () => void;
    const gateHeld = new Promise<void>((resolve) => (held = resolve));
    const running = h.db.transaction().execute(async (trx) => {
      await lockCampaignShared(trx, campaignId);
      held();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await gateHeld;

    const halt = h.api('author', 'POST', `/campaigns/${campaignId}/halt`, { reason: 'gate test' });
    await h.until(waitingGateLocks, (n) => n === 1, 'the halt to wait for the gate');
    const claim = reserveDeliveries(h.db, {
      campaignId,
      contentHash,
      fromSeq: 1,
      toSeq: 30,
      limit: 5,
      messageIdDomain: 'staff.example.com',
      token: 'late',
      staleSeconds: 10,
    });
    await h.until(waitingGateLocks, (n) => n === 2, 'the claim to queue behind the halt');

    release();
    await running;
    const halted = await halt;
    expect(halted.status).toBe(200);
    expect(halted.body).toMatchObject({ status: 'halted', inFlight: 0, stopped: 30 });
    expect(await claim).toEqual([]);
    expect(await countByStatus(h.db, campaignId)).toMatchObject({ sending: 0, sent: 0 });
  });
});
