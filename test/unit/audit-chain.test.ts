import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  AnchoredChainVerifier,
  ChainVerifier,
  GENESIS_HASH,
  chainHash,
  signCheckpoint,
  verifyChain,
  type AuditEventBody,
  type ChainedEvent,
  type CheckpointFile,
} from '../../src/domain/audit-chain.js';

const BODIES: AuditEventBody[] = [
  { at: '2030-01-02T09:00:00.000Z', actor: 'author@example.com', action: 'create', campaignId: 'c1', data: { subject: 'Update' } },
  { at: '2030-01-02T09:01:00.000Z', actor: 'author@example.com', action: 'submit', campaignId: 'c1', data: { hash: 'ab', recipients: 3 } },
  { at: '2030-01-02T09:02:00.000Z', actor: 'alice@example.com', action: 'approve', campaignId: 'c1', data: { hash: 'ab' } },
  {
    at: '2030-01-02T09:03:00.000Z',
    actor: 'bob@example.com',
    action: 'approve',
    campaignId: 'c1',
    data: { hash: 'ab', nested: { a: [1, 2] } },
  },
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
    const body: AuditEventBody = {
      data: { z: 1, a: 'x' },
      campaignId: 'c1',
      action: 'approve',
      actor: 'alice',
      at: '2030-01-02T09:00:00.000Z',
    };
    const canonical = '{"action":"approve","actor":"alice","at":"2030-01-02T09:00:00.000Z","campaignId":"c1","data":{"a":"x","z":1}}';
    expect(chainHash(GENESIS_HASH, body)).toBe(
      createHash('sha256')
        .update(GENESIS_HASH + canonical)
        .digest('hex'),
    );
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
      expect(verdict).toEqual({
        ok: false,
        brokenAt: chain[index]!.id,
        reason: expect.stringMatching(/hash does not match the event content/),
      });
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
    events[1]!.hash = chainHash(events[1]!.prevHash, {
      at: events[1]!.at,
      actor: events[1]!.actor,
      action: events[1]!.action,
      campaignId: events[1]!.campaignId,
      data: events[1]!.data,
    });
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

  it.each(chain.slice(0, -1).map((_, index) => index))(
    'swapping events #%i and the next is detected at the first out-of-place event',
    (index) => {
      const events = copy(chain);
      [events[index], events[index + 1]] = [events[index + 1]!, events[index]!];
      expect(verifyChain(events)).toMatchObject({ ok: false, brokenAt: chain[index + 1]!.id });
    },
  );

  it('an inserted event is detected', () => {
    const events = copy(chain);
    const forged: ChainedEvent = { ...copy(chain)[2]!, id: 99, actor: 'mallory@example.com' };
    forged.hash = chainHash(forged.prevHash, {
      at: forged.at,
      actor: forged.actor,
      action: forged.action,
      campaignId: forged.campaignId,
      data: forged.data,
    });
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

describe('AnchoredChainVerifier: the chain against signed checkpoints', () => {
  const KEY = 'k'.repeat(40);
  const chain = build([...BODIES, ...BODIES.map((b) => ({ ...b, at: b.at.replace('2030', '2031') }))]);
  /** A checkpoint of the chain as it stood at event `id`, as the checkpointer writes it. */
  const checkpointAt = (events: ChainedEvent[], id: number, key = KEY): CheckpointFile => {
    const index = events.findIndex((e) => e.id === id);
    const at = `2032-01-01T00:00:${String(index).padStart(2, '0')}.000Z`;
    return {
      name: `checkpoint-${id}.json`,
      content: signCheckpoint({ at, reason: 'interval', lastId: id, lastHash: events[index]!.hash, count: index + 1 }, key),
    };
  };
  const verify = (events: ChainedEvent[], files: CheckpointFile[]) => {
    const verifier = new AnchoredChainVerifier(files, KEY);
    for (const event of events) if (!verifier.push(event)) break;
    return verifier.report();
  };
  /** What someone who can write the table does: change one event, then recompute every hash from it on. */
  const recomputed = (events: ChainedEvent[]) => {
    let prev = GENESIS_HASH;
    return events.map((e) => {
      const { id: _id, prevHash: _p, hash: _h, ...body } = e;
      const hash = chainHash(prev, body);
      const event = { ...e, prevHash: prev, hash };
      prev = hash;
      return event;
    });
  };

  it('an intact chain matches its checkpoints and names the newest', () => {
    const report = verify(chain, [checkpointAt(chain, 3), checkpointAt(chain, 10), checkpointAt(chain, 7)]);
    expect(report).toEqual({
      ok: true,
      count: 10,
      last: { id: 10, hash: chain[9]!.hash },
      checkpoint: { name: 'checkpoint-10.json', at: '2032-01-01T00:00:09.000Z', lastId: 10, count: 10 },
      problems: [],
    });
  });

  it('events after the newest checkpoint are fine: they are simply not anchored yet', () => {
    expect(verify(chain, [checkpointAt(chain, 6)])).toMatchObject({ ok: true, count: 10, checkpoint: { lastId: 6 } });
  });

  it('without checkpoints it can only check the links, and says there is no anchor', () => {
    expect(verify(chain.slice(0, 7), [])).toEqual({
      ok: true,
      count: 7,
      last: { id: 7, hash: chain[6]!.hash },
      checkpoint: null,
      problems: [],
    });
  });

  it.each([1, 2, 5])('truncation of the newest %i event(s) behind a checkpoint is reported, though every link holds', (dropped) => {
    const events = chain.slice(0, -dropped);
    expect(verifyChain(events)).toEqual({ ok: true, count: 10 - dropped });
    const report = verify(events, [checkpointAt(chain, 4), checkpointAt(chain, 10)]);
    expect(report).toMatchObject({ ok: false, count: 10 - dropped });
    expect(report.problems).toEqual([
      {
        kind: 'truncated',
        eventId: 10 - dropped,
        checkpoint: 'checkpoint-10.json',
        message: `the checkpoint of 2032-01-01T00:00:09.000Z covers events up to 10 (10 events), but the chain ends at event ${10 - dropped} (${10 - dropped} events): the events after it were removed`,
      },
    ]);
  });

  it('an emptied table is truncation too', () => {
    expect(verify([], [checkpointAt(chain, 10)]).problems).toMatchObject([
      { kind: 'truncated', message: expect.stringContaining('the chain ends at no event at all') },
    ]);
  });

  it.each([0, 3, 6, 9])(
    'rewriting event #%i and recomputing every hash after it is reported at the first checkpoint that covers it',
    (index) => {
      const events = copy(chain);
      events[index]!.actor = 'mallory@example.com';
      const forged = recomputed(events);
      expect(verifyChain(forged)).toEqual({ ok: true, count: 10 });
      const report = verify(forged, [checkpointAt(chain, 2), checkpointAt(chain, 5), checkpointAt(chain, 10)]);
      const firstCovering = [2, 5, 10].find((id) => id >= index + 1)!;
      const lastGood = [2, 5, 10].filter((id) => id < index + 1).at(-1);
      expect(report.ok).toBe(false);
      expect(report.problems).toEqual([
        {
          kind: 'rewritten',
          eventId: firstCovering,
          checkpoint: `checkpoint-${firstCovering}.json`,
          message: expect.stringMatching(
            new RegExp(
              `^event ${firstCovering} is not the one the checkpoint of .* signed .*: the history up to it was rewritten ${lastGood ? `after event ${lastGood}, which matches` : 'from the first event on'}`,
            ),
          ),
        },
      ]);
    },
  );

  it('deleting an event and recomputing the rest is reported: the count or the checkpointed event no longer fits', () => {
    const withoutFourth = recomputed(copy(chain).filter((e) => e.id !== 4));
    expect(verify(withoutFourth, [checkpointAt(chain, 10)]).problems).toMatchObject([{ kind: 'rewritten', eventId: 10 }]);
    // The checkpointed event itself deleted, later ones kept.
    const withoutFifth = recomputed(copy(chain).filter((e) => e.id !== 5));
    expect(verify(withoutFifth, [checkpointAt(chain, 5)]).problems).toMatchObject([
      {
        kind: 'rewritten',
        eventId: 6,
        message: expect.stringMatching(/^event 5, the newest the checkpoint .* covers, is gone while later events remain/),
      },
    ]);
  });

  it('the same hashes with an event fewer before the checkpoint cannot pass: the count is signed too', () => {
    const good = checkpointAt(chain, 10);
    const content = signCheckpoint(
      { ...(good.content as { at: string; lastHash: string }), reason: 'interval', lastId: 10, count: 11 },
      KEY,
    );
    expect(verify(chain, [{ name: 'checkpoint-10.json', content }]).problems).toMatchObject([
      { kind: 'rewritten', message: expect.stringMatching(/counts 11 events up to event 10, the chain has 10/) },
    ]);
  });

  it('refuses a checkpoint that was altered, forged with another key, or is not one, and still checks against the good ones', () => {
    const altered = checkpointAt(chain, 10);
    (altered.content as { lastHash: string }).lastHash = 'a'.repeat(64);
    const otherKey = { ...checkpointAt(chain, 9, 'o'.repeat(40)), name: 'checkpoint-9.json' };
    const files = [altered, otherKey, { name: 'checkpoint-8.json', content: null }, checkpointAt(chain, 6)];
    const report = verify(chain.slice(0, 7), files);
    expect(report.problems.map((p) => [p.kind, 'checkpoint' in p ? p.checkpoint : '', p.message])).toEqual([
      ['bad_checkpoint', 'checkpoint-10.json', 'its signature does not match its contents: it was altered or forged'],
      ['bad_checkpoint', 'checkpoint-9.json', expect.stringMatching(/^it was signed with another key/)],
      ['bad_checkpoint', 'checkpoint-8.json', 'it is not a checkpoint (unreadable or incomplete)'],
    ]);
    expect(report).toMatchObject({ ok: false, checkpoint: { lastId: 6 } });
    expect(new AnchoredChainVerifier([checkpointAt(chain, 6)], undefined).report().problems).toMatchObject([
      { kind: 'bad_checkpoint', message: expect.stringMatching(/AUDIT_KEY is not set/) },
    ]);
  });

  it('a broken link is reported as such, with the event, and no checkpoint is compared past it', () => {
    const events = copy(chain);
    events[3]!.data = { forged: true };
    expect(verify(events, [checkpointAt(chain, 10)])).toMatchObject({
      ok: false,
      brokenAt: 4,
      problems: [{ kind: 'broken', eventId: 4, message: expect.stringMatching(/hash does not match/) }],
    });
  });
});
