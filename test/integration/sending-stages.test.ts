import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DataFault } from '../support/smtp-sink.js';
import { Harness } from '../support/harness.js';

// One campaign through the real pipeline, its recipients routed by address to a server that
// fails at a different stage for each group; test/unit/smtp-stages.test.ts shows what
// nodemailer raises at each stage.
const GROUPS = ['ok', 'busy', 'lost', 'later', 'gone', 'spam', 'cut', 'drop', 'reset'] as const;
const PER_GROUP = 3;
const group = (address: string) => address.split(/\d/, 1)[0];

const dataFaults: Record<string, (attempt: number) => DataFault> = {
  later: (attempt) => (attempt === 1 ? { code: 451, message: 'Queue full, try later' } : null),
  spam: () => ({ code: 554, message: 'Rejected as spam' }),
  cut: (attempt) => (attempt === 1 ? 'drop-in-body' : null),
  drop: () => 'drop-after-dot',
  reset: () => 'reset-after-dot',
};

interface DeliveryRow {
  email: string;
  status: string;
  attempts: number;
  smtpResponse: string;
}

describe('a campaign whose recipients meet failures at every stage', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      sink: {
        rcptFault: (address, attempt) => {
          if (group(address) === 'busy' && attempt === 1) return { code: 451, message: 'Greylisted, try later' };
          // The connection dropped at RCPT, without a reply: nothing can have been delivered.
          if (group(address) === 'lost' && attempt === 1) return 'drop';
          if (group(address) === 'gone') return { code: 550, message: 'No such mailbox' };
          return null;
        },
        dataFault: (address, attempt) => dataFaults[group(address)!]?.(attempt) ?? null,
      },
      // Six permanent failures in 27 must not halt the campaign: this test is about each row.
      env: { AUTO_HALT_MIN_ATTEMPTS: '100', SMTP_MAX_CONNECTIONS: '2', WORKER_CONCURRENCY: '1', DELIVERY_CLAIM_SIZE: '4' },
    });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it('resends only what cannot have arrived, and records what may have as unknown', async () => {
    const recipients = GROUPS.flatMap((name) =>
      Array.from({ length: PER_GROUP }, (_, i) => ({ email: `${name}${i}@corp.example.com`, name: `${name} ${i}` })),
    );
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Stages',
      body: 'Hello {{firstName}}',
      audience: { recipients },
    });
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    await h.api('alice', 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash });
    const approved = await h.api('bob', 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash });
    // No hold window: the workers may have started it before the response read it back.
    expect(['scheduled', 'sending', 'sent']).toContain(approved.body.status);
    const id = created.body.id as string;

    // Stop waiting as soon as a row that must be tried only once is tried again: a regression
    // then shows as that row rather than as a timeout.
    const triedAgain = () =>
      recipients.some((r) => !['ok', 'busy', 'lost', 'later', 'cut'].includes(group(r.email)!) && h.sink.rcptAttempts(r.email) > 1);
    await h.until(
      () => h.campaignStatus(id),
      (status) => status === 'sent' || triedAgain(),
      'the campaign to be sent',
      60_000,
    );
    const rows = (await h.api('author', 'GET', `/campaigns/${id}/deliveries`)).body.deliveries as DeliveryRow[];
    expect(rows).toHaveLength(GROUPS.length * PER_GROUP);
    const rowsOf = (name: string) => {
      const found = rows.filter((r) => group(r.email) === name);
      expect(found, name).toHaveLength(PER_GROUP);
      return found;
    };
    const copies = (row: DeliveryRow) => h.sink.to(row.email).length;
    const offers = (row: DeliveryRow) => h.sink.rcptAttempts(row.email);

    // Refused with 5xx: failed with the server's reply, never offered again.
    for (const [name, reply] of [
      ['gone', /^550 .*No such mailbox/],
      ['spam', /^554 .*Rejected as spam/],
    ] as const) {
      for (const row of rowsOf(name)) {
        expect(row).toMatchObject({ status: 'failed', attempts: 1 });
        expect(row.smtpResponse).toMatch(reply);
        expect([copies(row), offers(row)]).toEqual([0, 1]);
      }
    }
    // The connection lost after the final dot: the server has the message once, and it is never resent.
    for (const [name, reason] of [
      ['drop', /Connection closed unexpectedly/],
      ['reset', /ECONNRESET/],
    ] as const) {
      for (const row of rowsOf(name)) {
        expect(row).toMatchObject({ status: 'unknown', attempts: 1 });
        expect(row.smtpResponse).toMatch(reason);
        expect([copies(row), offers(row)]).toEqual([1, 1]);
      }
    }
    // Lost inside the body. Had the client learned of it before its final dot, the dot cannot have
    // gone: tried again, and it arrived once. A small body goes in one write, though, and its dot
    // follows as soon as the start is recorded: if that came first, the dot went out into the
    // closing connection, and as far as the client can know it may have arrived: unknown, never
    // resent. Never two copies either way. (Which one happens is a race the unit tests of
    // smtp-stages pin down.)
    for (const row of rowsOf('cut')) {
      if (row.status === 'unknown') {
        expect(row).toMatchObject({ attempts: 1 });
        expect([copies(row), offers(row)]).toEqual([0, 1]);
      } else {
        expect(row).toMatchObject({ status: 'sent', attempts: 2 });
        expect([copies(row), offers(row)]).toEqual([1, 2]);
      }
    }
    expect(h.sink.cutOff.map((c) => c.envelopeTo[0]).sort()).toEqual(
      rowsOf('cut')
        .map((r) => r.email)
        .sort(),
    );

    // Refused before the message or at its end with 4xx: tried again, and arrived exactly once.
    // Dropped at RCPT: nothing can have arrived. nodemailer's pool itself offers it again on
    // another connection before it gives up, so the ledger may count one attempt or two.
    for (const row of rowsOf('lost')) {
      expect(row.status).toBe('sent');
      expect([copies(row), offers(row)]).toEqual([1, 2]);
    }
    for (const row of [...rowsOf('busy'), ...rowsOf('later')]) {
      expect(row).toMatchObject({ status: 'sent', attempts: 2 });
      expect([copies(row), offers(row)]).toEqual([1, 2]);
    }
    for (const row of rowsOf('ok')) {
      expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      expect([copies(row), offers(row)]).toEqual([1, 1]);
    }

    const campaign = await h.api('author', 'GET', `/campaigns/${id}`);
    const cutUnknown = rowsOf('cut').filter((row) => row.status === 'unknown').length;
    expect(campaign.body.deliveries).toMatchObject({ sent: 15 - cutUnknown, failed: 6, unknown: 6 + cutUnknown, queued: 0, sending: 0 });
  });
});
