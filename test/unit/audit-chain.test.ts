import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ChainVerifier,
  GENESIS_HASH,
  chainHash,
  verifyChain,
  type AuditEventBody,
  type ChainedEvent,
} from '../../src/domain/audit-chain.js';

const BODIES: AuditEventBody[] = [
  { at: '2030-01-02T09:00:00.000Z', actor: 'author@example.com', action: 'create', campaignId: 'c1', data: { subject: 'Update' } },
  { at: '2030-01-02T09:01:00.000Z', actor: 'author@example.com', action: 'submit', campaignId: 'c1', data: { hash: 'ab', recipients: 3 } },
  { at: '2030-01-02T09:02:00.000Z', actor: 'alice@example.com', action: 'approve', campaignId: 'c1', data: { hash: 'ab' } },
  { at: '2030-01-02T09:03:00.000Z', actor: 'bob@example.com', action: 'approve', campaignId: 'c1', data: { hash: 'ab', nested: { a: [1, 2] } } },
  { at: '2030-01-02T09:04:00.000Z', actor: 'system', action: 'kill_switch', campaignId: null, data: {} },
];

/** Builds a valid chain the way the database layer does, starting from the genesis hash. */
function build(bodies: AuditEventBody[], firstId = 1): ChainedEvent[] {
  let prev = GENESIS_HASH;
  return bodies.map((body, index) => {
    const hash = chainHash(prev, body);
    const event: ChainedEvent = { id: firstId + index, ...structuredClone(body), prevHash: prev, hash };
    prev = hash;
    return event;
  });
}

function copy(events: ChainedEvent[]): ChainedEvent[] {
  return structuredClone(events);
}

describe('chainHash', () => {
  it('is sha256(prev_hash || canonical(event)), independent of key order', () => {
    const body: AuditEventBody = { data: { z: 1, a: 'x' }, campaignId: 'c1', action: 'approve', actor: 'alice', at: '2030-01-02T09:00:00.000Z' };
    const canonical = '{"action":"approve","actor":"alice","at":"2030-01-02T09:00:00.000Z","campaignId":"c1","data":{"a":"x","z":1}}';
    expect(chainHash(GENESIS_HASH, body)).toBe(createHash('sha256').update(GENESIS_HASH + canonical).digest('hex'));
  });

  it('depends on the previous hash', () => {
    expect(chainHash(GENESIS_HASH, BODIES[0]!)).not.toBe(chainHash('1'.repeat(64), BODIES[0]!));
  });

  it('the genesis hash is 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
  });
});

describe('verifyChain', () => {
  const chain = build(BODIES);

  it('a valid chain verifies, with its length', () => {
    expect(verifyChain(chain)).toEqual({ ok: true, count: BODIES.length });
  });

  it('an empty chain verifies with count 0', () => {
    expect(verifyChain([])).toEqual({ ok: true, count: 0 });
  });

  it('verifies events that come back from storage with keys in another order (JSONB)', () => {
    const reordered = chain.map((e) => {
      const data = Object.fromEntries(Object.entries(e.data).reverse());
      return { hash: e.hash, data, prevHash: e.prevHash, campaignId: e.campaignId, action: e.action, actor: e.actor, at: e.at, id: e.id };
    });
    expect(verifyChain(reordered)).toEqual({ ok: true, count: BODIES.length });
  });

  it('accepts any iterable (e.g. a generator paging through the table)', () => {
    function* rows() {
      yield* chain;
    }
    expect(verifyChain(rows())).toEqual({ ok: true, count: BODIES.length });
  });

  type Tamper = [string, (event: ChainedEvent) => void];
  const tampers: Tamper[] = [
    ['data value', (e) => void (e.data = { ...e.data, extra: true })],
    ['data emptied or replaced', (e) => void (e.data = { tampered: 1 })],
    ['actor', (e) => void (e.actor = 'mallory@example.com')],
    ['action', (e) => void (e.action = e.action + '_x')],
    ['at', (e) => void (e.at = '2031-01-01T00:00:00.000Z')],
    ['campaignId', (e) => void (e.campaignId = e.campaignId === null ? 'c2' : null)],
  ];

  describe.each(tampers)('altering %s of any event is detected at that event', (_label, tamper) => {
    it.each(chain.map((_, index) => index))('event #%i', (index) => {
      const events = copy(chain);
      tamper(events[index]!);
      const verdict = verifyChain(events);
      expect(verdict).toEqual({ ok: false, brokenAt: chain[index]!.id, reason: expect.stringMatching(/hash does not match the event content/) });
    });
  });

  it('altering a nested value deep inside data is detected', () => {
    const events = copy(chain);
    (events[3]!.data.nested as { a: number[] }).a[1] = 3;
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: 4 });
  });

  it.each(chain.map((_, index) => index))('altering prev_hash of event #%i is detected at that event', (index) => {
    const events = copy(chain);
    events[index]!.prevHash = 'f'.repeat(64);
    expect(verifyChain(events)).toEqual({ ok: false, brokenAt: chain[index]!.id, reason: expect.stringMatching(/prev_hash/) });
  });

  it.each(chain.map((_, index) => index))('altering the stored hash of event #%i is detected at that event', (index) => {
    const events = copy(chain);
    events[index]!.hash = 'e'.repeat(64);
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: chain[index]!.id });
  });

  it('rewriting an event and recomputing its own hash is detected at the next event', () => {
    const events = copy(chain);
    events[1]!.actor = 'mallory@example.com';
    events[1]!.hash = chainHash(events[1]!.prevHash, { at: events[1]!.at, actor: events[1]!.actor, action: events[1]!.action, campaignId: events[1]!.campaignId, data: events[1]!.data });
    expect(verifyChain(events)).toEqual({ ok: false, brokenAt: 3, reason: expect.stringMatching(/prev_hash/) });
  });

  it.each(chain.slice(0, -1).map((_, index) => index))('deleting event #%i is detected at the event after it', (index) => {
    const events = copy(chain);
    events.splice(index, 1);
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: chain[index + 1]!.id });
  });

  it('deleting the newest event cannot be seen from the chain alone: the count shows it', () => {
    // A hash chain detects truncation only against a separately kept count or head hash.
    expect(verifyChain(copy(chain).slice(0, -1))).toEqual({ ok: true, count: BODIES.length - 1 });
  });

  it.each(chain.slice(0, -1).map((_, index) => index))('swapping events #%i and the next is detected at the first out-of-place event', (index) => {
    const events = copy(chain);
    [events[index], events[index + 1]] = [events[index + 1]!, events[index]!];
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: chain[index + 1]!.id });
  });

  it('an inserted event is detected', () => {
    const events = copy(chain);
    const forged: ChainedEvent = { ...copy(chain)[2]!, id: 99, actor: 'mallory@example.com' };
    forged.hash = chainHash(forged.prevHash, { at: forged.at, actor: forged.actor, action: forged.action, campaignId: forged.campaignId, data: forged.data });
    events.splice(3, 0, forged);
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: 99 });
  });

  it('names the first broken event when several are broken', () => {
    const events = copy(chain);
    events[3]!.actor = 'x';
    events[1]!.actor = 'y';
    expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: 2 });
  });
});

describe('ChainVerifier', () => {
  const chain = build(BODIES);

  it('push returns true for each good link and the verdict counts them', () => {
    const verifier = new ChainVerifier();
    for (const event of chain) expect(verifier.push(event)).toBe(true);
    expect(verifier.verdict()).toEqual({ ok: true, count: chain.length });
  });

  it('a fresh verifier has verified nothing', () => {
    expect(new ChainVerifier().verdict()).toEqual({ ok: true, count: 0 });
  });

  it('once broken, it stays broken at the first bad event, even if later events are fine', () => {
    const events = copy(chain);
    events[1]!.data = { changed: true };
    const verifier = new ChainVerifier();
    expect(verifier.push(events[0]!)).toBe(true);
    expect(verifier.push(events[1]!)).toBe(false);
    expect(verifier.push(events[2]!)).toBe(false);
    expect(verifier.push(chain[1]!)).toBe(false);
    expect(verifier.verdict()).toMatchObject({ ok: false, brokenAt: 2 });
  });

  it('a chain whose first event does not start at genesis is refused', () => {
    const verifier = new ChainVerifier();
    expect(verifier.push(chain[1]!)).toBe(false);
    expect(verifier.verdict()).toMatchObject({ ok: false, brokenAt: 2, reason: expect.stringMatching(/prev_hash/) });
  });

  it('can verify a tail of the chain starting from a known hash', () => {
    const verifier = new ChainVerifier(chain[1]!.hash);
    for (const event of chain.slice(2)) expect(verifier.push(event)).toBe(true);
    expect(verifier.verdict()).toEqual({ ok: true, count: chain.length - 2 });
  });

  it('a tail checked from the wrong starting hash fails at its first event', () => {
    const verifier = new ChainVerifier(chain[0]!.hash);
    expect(verifier.push(chain[2]!)).toBe(false);
    expect(verifier.verdict()).toMatchObject({ ok: false, brokenAt: 3 });
  });

  it('agrees with verifyChain on every single-event tampering', () => {
    for (let index = 0; index < chain.length; index++) {
      const events = copy(chain);
      events[index]!.action = 'forged';
      const verifier = new ChainVerifier();
      for (const event of events) if (!verifier.push(event)) break;
      expect(verifier.verdict()).toEqual(verifyChain(events));
      expect(verifier.verdict()).toMatchObject({ ok: false, brokenAt: index + 1 });
    }
  });
});
