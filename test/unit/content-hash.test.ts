import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AudienceDigest, contentHash, type FrozenContent, type SnapshotRecipient } from '../../src/domain/content-hash.js';

const BASE: FrozenContent = {
  kind: 'policy',
  subject: 'Please update your laptop',
  bodyMarkdown: 'Hello {{firstName}},\n\nUpdate today.',
  fromAddress: 'comms@example.com',
  fromName: 'Internal Comms',
  sendAt: '2030-01-02T09:00:00.000Z',
  recipientCount: 12431,
  audienceDigest: 'c'.repeat(64),
  originalCampaignId: null,
  rendererVersion: 2,
  mandatory: false,
  external: false,
  skipped: 0,
  waveSize: null,
  policy: null,
};

const DECISION = {
  applied: ['1,000 or more recipients need 3 approvers'],
  requiredApprovals: 3,
  adminApprover: false,
  holdMinutes: 0,
  firstWave: null,
  quietHours: null,
};

/**
 * For every frozen field, values that differ from BASE. A mapped type, so a field
 * added to FrozenContent fails to compile here until the test covers it.
 */
const VARIANTS: { [K in keyof FrozenContent]-?: FrozenContent[K][] } = {
  kind: ['correction'],
  subject: ['Please update your laptop ', 'please update your laptop', 'Please update your laptop!', ''],
  bodyMarkdown: [
    'Hello {{firstName}},\n\nUpdate today!',
    'Hello {{lastName}},\n\nUpdate today.',
    'Hello {{firstName}},\r\n\r\nUpdate today.',
  ],
  fromAddress: ['comms2@example.com', 'comms@example.org'],
  fromName: ['Internal Comms ', 'IT'],
  sendAt: [null, '2030-01-02T09:00:00.001Z', '2030-01-02T10:00:00.000Z'],
  recipientCount: [12430, 12432, 0],
  audienceDigest: ['d'.repeat(64), 'c'.repeat(63) + 'd'],
  originalCampaignId: ['4b3c1a6e-0000-4000-8000-000000000001'],
  rendererVersion: [1, 3],
  mandatory: [true],
  external: [true],
  skipped: [1, 12431],
  waveSize: [1, 600],
  policy: [DECISION, { ...DECISION, adminApprover: true }, { ...DECISION, holdMinutes: 30 }, { ...DECISION, applied: [] }],
};

describe('contentHash', () => {
  it('is 64 lower-case hex characters', () => {
    expect(contentHash(BASE)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the SHA-256 of the versioned canonical JSON (stored hashes must stay valid across releases)', () => {
    const canonical =
      '{"audienceDigest":"' +
      'c'.repeat(64) +
      '",' +
      '"bodyMarkdown":"Hello {{firstName}},\\n\\nUpdate today.",' +
      '"external":false,' +
      '"fromAddress":"comms@example.com",' +
      '"fromName":"Internal Comms",' +
      '"kind":"policy",' +
      '"mandatory":false,' +
      '"originalCampaignId":null,' +
      '"policy":null,' +
      '"recipientCount":12431,' +
      '"rendererVersion":2,' +
      '"sendAt":"2030-01-02T09:00:00.000Z",' +
      '"skipped":0,' +
      '"subject":"Please update your laptop",' +
      '"v":1,' +
      '"waveSize":null}';
    expect(contentHash(BASE)).toBe(createHash('sha256').update(canonical).digest('hex'));
  });

  it('is stable: the same content gives the same hash', () => {
    expect(contentHash(BASE)).toBe(contentHash({ ...BASE }));
    expect(contentHash(structuredClone(BASE))).toBe(contentHash(BASE));
  });

  it('does not depend on key order', () => {
    const reversed = Object.fromEntries(Object.entries(BASE).reverse()) as unknown as FrozenContent;
    expect(Object.keys(reversed)).not.toEqual(Object.keys(BASE));
    expect(contentHash(reversed)).toBe(contentHash(BASE));
  });

  const cases = (Object.keys(VARIANTS) as (keyof FrozenContent)[]).flatMap((field) =>
    (VARIANTS[field] as unknown[]).map((value) => [field, value] as const),
  );

  it.each(cases)('changes when %s changes to %j', (field, value) => {
    const changed = { ...BASE, [field]: value } as FrozenContent;
    expect(contentHash(changed)).not.toBe(contentHash(BASE));
  });

  it('gives every single-field variant its own hash', () => {
    const hashes = new Set(cases.map(([field, value]) => contentHash({ ...BASE, [field]: value } as FrozenContent)));
    hashes.add(contentHash(BASE));
    expect(hashes.size).toBe(cases.length + 1);
  });

  it('moving text from one field to the next changes the hash', () => {
    const a = { ...BASE, subject: 'ab', bodyMarkdown: 'c' };
    const b = { ...BASE, subject: 'a', bodyMarkdown: 'bc' };
    expect(contentHash(a)).not.toBe(contentHash(b));
  });

  it('swapping the values of two fields changes the hash', () => {
    const a = { ...BASE, fromName: 'X', subject: 'Y' };
    const b = { ...BASE, fromName: 'Y', subject: 'X' };
    expect(contentHash(a)).not.toBe(contentHash(b));
  });
});

function recipient(email: string, overrides: Partial<SnapshotRecipient> = {}): SnapshotRecipient {
  return { email, name: 'Some One', fields: { team: 'ops' }, replyToMessageId: null, ...overrides };
}

function digestOf(recipients: SnapshotRecipient[]): string {
  const digest = new AudienceDigest();
  for (const r of recipients) digest.add(r);
  return digest.digest();
}

const AUDIENCE = [recipient('a@example.com'), recipient('b@example.com'), recipient('c@example.com')];

describe('AudienceDigest', () => {
  it('is stable: the same recipients give the same digest', () => {
    expect(digestOf(AUDIENCE)).toBe(digestOf(structuredClone(AUDIENCE)));
    expect(digestOf(AUDIENCE)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('is the SHA-256 of one canonical JSON line per recipient', () => {
    const expected = createHash('sha256');
    for (const r of AUDIENCE) {
      expected.update(`{"email":"${r.email}","fields":{"team":"ops"},"name":"Some One","replyToMessageId":null}\n`);
    }
    expect(digestOf(AUDIENCE)).toBe(expected.digest('hex'));
  });

  it('the empty audience has the digest of nothing', () => {
    expect(digestOf([])).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('counts the recipients added', () => {
    const digest = new AudienceDigest();
    expect(digest.count).toBe(0);
    for (const r of AUDIENCE) digest.add(r);
    expect(digest.count).toBe(3);
  });

  it('does not depend on the key order inside a recipient or its fields', () => {
    const shuffled = AUDIENCE.map(
      (r) => ({ replyToMessageId: r.replyToMessageId, fields: { ...r.fields }, name: r.name, email: r.email }) as SnapshotRecipient,
    );
    const two = [recipient('a@example.com', { fields: { a: '1', b: '2' } }), recipient('b@example.com', { fields: { b: '2', a: '1' } })];
    const twoSwapped = [
      recipient('a@example.com', { fields: { b: '2', a: '1' } }),
      recipient('b@example.com', { fields: { a: '1', b: '2' } }),
    ];
    expect(digestOf(shuffled)).toBe(digestOf(AUDIENCE));
    expect(digestOf(two)).toBe(digestOf(twoSwapped));
  });

  describe('enforces strictly ascending address order', () => {
    it('refuses an address that sorts before the previous one', () => {
      const digest = new AudienceDigest();
      digest.add(recipient('b@example.com'));
      expect(() => digest.add(recipient('a@example.com'))).toThrow(/ascending/);
    });

    it('refuses the same address twice', () => {
      const digest = new AudienceDigest();
      digest.add(recipient('a@example.com'));
      expect(() => digest.add(recipient('a@example.com', { name: 'Other' }))).toThrow(/ascending/);
    });

    it('a refused recipient leaves the digest and the count untouched', () => {
      const digest = new AudienceDigest();
      digest.add(AUDIENCE[0]!);
      digest.add(AUDIENCE[1]!);
      expect(() => digest.add(recipient('a0@example.com'))).toThrow();
      digest.add(AUDIENCE[2]!);
      expect(digest.count).toBe(3);
      expect(digest.digest()).toBe(digestOf(AUDIENCE));
    });

    it("orders addresses by their UTF-8 bytes, as PostgreSQL's C collation does, not by locale or UTF-16 units", () => {
      const digest = new AudienceDigest();
      // '.' is byte 0x2e, before 'b': a locale collation that ignores punctuation puts ab@ first.
      digest.add(recipient('a.c@example.com'));
      digest.add(recipient('ab@example.com'));
      // U+FF21 is EF BC A1 in UTF-8 and U+1F600 is F0 9F 98 80; in UTF-16 the latter starts with D83D, below FF21.
      digest.add(recipient('\uFF21@example.com'));
      digest.add(recipient('\u{1F600}@example.com'));
      expect(digest.count).toBe(4);
      expect(() => digest.add(recipient('\uFF21@example.org'))).toThrow(/ascending/);
    });

    it('accepts recipients page by page as long as order holds across pages', () => {
      const pages = [[AUDIENCE[0]!], [AUDIENCE[1]!, AUDIENCE[2]!]];
      const digest = new AudienceDigest();
      for (const page of pages) for (const r of page) digest.add(r);
      expect(digest.digest()).toBe(digestOf(AUDIENCE));
    });
  });

  describe('any change to the recipients changes the digest', () => {
    const base = digestOf(AUDIENCE);
    const withSecond = (change: Partial<SnapshotRecipient>) => digestOf([AUDIENCE[0]!, { ...AUDIENCE[1]!, ...change }, AUDIENCE[2]!]);

    it.each([
      ['email', { email: 'bb@example.com' }],
      ['email case', { email: 'b@exampLe.com' }],
      ['name', { name: 'Some  One' }],
      ['name emptied', { name: '' }],
      ['a field value', { fields: { team: 'ops ' } }],
      ['a field name', { fields: { Team: 'ops' } }],
      ['a field added', { fields: { team: 'ops', site: 'x' } }],
      ['all fields removed', { fields: {} }],
      ['replyToMessageId set', { replyToMessageId: '<1@example.com>' }],
    ] as [string, Partial<SnapshotRecipient>][])('%s', (_label, change) => {
      expect(withSecond(change)).not.toBe(base);
    });

    it('a recipient added at the end', () => {
      expect(digestOf([...AUDIENCE, recipient('d@example.com')])).not.toBe(base);
    });

    it('a recipient removed (first, middle or last)', () => {
      expect(digestOf([AUDIENCE[1]!, AUDIENCE[2]!])).not.toBe(base);
      expect(digestOf([AUDIENCE[0]!, AUDIENCE[2]!])).not.toBe(base);
      expect(digestOf([AUDIENCE[0]!, AUDIENCE[1]!])).not.toBe(base);
    });

    it('one recipient replaced by another', () => {
      expect(digestOf([AUDIENCE[0]!, recipient('bz@example.com'), AUDIENCE[2]!])).not.toBe(base);
    });

    it('a different replyToMessageId', () => {
      const one = digestOf([recipient('a@example.com', { replyToMessageId: '<1@x>' })]);
      const two = digestOf([recipient('a@example.com', { replyToMessageId: '<2@x>' })]);
      expect(one).not.toBe(two);
    });

    it('text moved between name and a field', () => {
      const one = digestOf([recipient('a@example.com', { name: 'ab', fields: { f: 'c' } })]);
      const two = digestOf([recipient('a@example.com', { name: 'a', fields: { f: 'bc' } })]);
      expect(one).not.toBe(two);
    });
  });
});
