import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createCampaignInput, editCampaignInput, recipientInput } from '../../src/domain/inputs.js';

const MINIMAL = { subject: 'Please update', body: 'Hello {{firstName}}', audience: { listIds: ['list-1'] } };

/** The issues of a failed parse as "path: message" lines, for readable assertions. */
function issuesOf(schema: z.ZodType, value: unknown): { path: (string | number)[]; message: string; code: string }[] {
  const result = schema.safeParse(value);
  expect(result.success, `expected ${JSON.stringify(value)} to be refused`).toBe(false);
  return result.error!.issues.map((i) => ({ path: i.path as (string | number)[], message: i.message, code: i.code }));
}

function refusedAt(schema: z.ZodType, value: unknown, path: (string | number)[]): string {
  const issues = issuesOf(schema, value);
  const issue = issues.find((i) => JSON.stringify(i.path) === JSON.stringify(path));
  expect(issue, `no issue at ${JSON.stringify(path)}; got ${JSON.stringify(issues)}`).toBeDefined();
  return issue!.message;
}

describe('recipientInput', () => {
  it('normalises the address and fills defaults', () => {
    expect(recipientInput.parse({ email: '  Ada@Example.COM ' })).toEqual({ email: 'ada@example.com', name: '', fields: {} });
  });

  it('keeps a name and custom fields', () => {
    expect(recipientInput.parse({ email: 'ada@example.com', name: 'Ada Lovelace', fields: { team: 'ops', site_2: 'x' } })).toEqual({
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      fields: { team: 'ops', site_2: 'x' },
    });
  });

  it('refuses an invalid address at email', () => {
    expect(refusedAt(recipientInput, { email: 'ada@@example.com' }, ['email'])).toBe('is not a valid email address');
  });

  it.each([
    ['CR LF', 'Ada\r\nBcc: everyone@example.com'],
    ['LF', 'Ada\nLovelace'],
    ['CR', 'Ada\rLovelace'],
  ])('refuses %s in the name (header injection)', (_label, name) => {
    expect(refusedAt(recipientInput, { email: 'ada@example.com', name }, ['name'])).toMatch(/line breaks/);
  });

  it('refuses a name over 200 characters', () => {
    refusedAt(recipientInput, { email: 'ada@example.com', name: 'x'.repeat(201) }, ['name']);
    expect(recipientInput.safeParse({ email: 'ada@example.com', name: 'x'.repeat(200) }).success).toBe(true);
  });

  it.each(['1team', 'team-name', 'team name', '_team', '', 'é', 'a'.repeat(65)])('refuses the field name %j', (key) => {
    const issues = issuesOf(recipientInput, { email: 'ada@example.com', fields: { [key]: 'x' } });
    expect(issues[0]!.path[0]).toBe('fields');
  });

  it('accepts a field name of 64 characters', () => {
    expect(recipientInput.safeParse({ email: 'ada@example.com', fields: { ['a'.repeat(64)]: 'x' } }).success).toBe(true);
  });

  it('refuses a field value over 2000 characters', () => {
    refusedAt(recipientInput, { email: 'ada@example.com', fields: { team: 'x'.repeat(2001) } }, ['fields', 'team']);
  });

  it('refuses unknown keys', () => {
    const issues = issuesOf(recipientInput, { email: 'ada@example.com', role: 'admin' });
    expect(issues[0]!.code).toBe('unrecognized_keys');
  });

  it.each([
    ['missing email', { name: 'Ada' }, ['email']],
    ['email a number', { email: 42 }, ['email']],
    ['email null', { email: null }, ['email']],
    ['name a number', { email: 'ada@example.com', name: 7 }, ['name']],
    ['name null', { email: 'ada@example.com', name: null }, ['name']],
    ['fields an array', { email: 'ada@example.com', fields: ['a'] }, ['fields']],
    ['fields a string', { email: 'ada@example.com', fields: 'team=ops' }, ['fields']],
    ['a field value a number', { email: 'ada@example.com', fields: { team: 1 } }, ['fields', 'team']],
    ['a field value null', { email: 'ada@example.com', fields: { team: null } }, ['fields', 'team']],
  ] as [string, unknown, (string | number)[]][])('refuses wrong types: %s', (_label, value, path) => {
    refusedAt(recipientInput, value, path);
  });

  it.each([null, 'ada@example.com', 42, []])('refuses a non-object: %j', (value) => {
    expect(recipientInput.safeParse(value).success).toBe(false);
  });
});

describe('createCampaignInput', () => {
  it('accepts a minimal campaign and fills the audience defaults', () => {
    expect(createCampaignInput.parse(MINIMAL)).toEqual({
      subject: 'Please update',
      body: 'Hello {{firstName}}',
      audience: { listIds: ['list-1'], recipients: [] },
    });
  });

  it('accepts a full campaign, normalising addresses', () => {
    const parsed = createCampaignInput.parse({
      ...MINIMAL,
      fromAddress: ' Comms@Example.com ',
      fromName: 'Internal Comms',
      audience: { listIds: [], recipients: [{ email: 'Bob@Example.com', name: 'Bob' }] },
      sendAt: '2030-01-02T09:00:00Z',
      requiredApprovals: 3,
    });
    expect(parsed.fromAddress).toBe('comms@example.com');
    expect(parsed.audience.recipients).toEqual([{ email: 'bob@example.com', name: 'Bob', fields: {} }]);
    expect(parsed.sendAt).toBe('2030-01-02T09:00:00Z');
    expect(parsed.requiredApprovals).toBe(3);
  });

  it('trims the subject', () => {
    expect(createCampaignInput.parse({ ...MINIMAL, subject: '  Please update  ' }).subject).toBe('Please update');
  });

  describe('subject', () => {
    it.each([
      ['CR LF', 'Update\r\nBcc: all@example.com'],
      ['LF', 'Update\nnow'],
      ['CR', 'Update\rnow'],
    ])('refuses %s (header injection)', (_label, subject) => {
      expect(refusedAt(createCampaignInput, { ...MINIMAL, subject }, ['subject'])).toMatch(/line breaks/);
    });

    it.each(['', '   ', '\t'])('refuses an empty subject %j', (subject) => {
      expect(refusedAt(createCampaignInput, { ...MINIMAL, subject }, ['subject'])).toBe('must not be empty');
    });

    it('refuses a subject over 250 characters', () => {
      refusedAt(createCampaignInput, { ...MINIMAL, subject: 'x'.repeat(251) }, ['subject']);
      expect(createCampaignInput.safeParse({ ...MINIMAL, subject: 'x'.repeat(250) }).success).toBe(true);
    });
  });

  describe('sender', () => {
    it('refuses CR/LF in the sender name', () => {
      expect(refusedAt(createCampaignInput, { ...MINIMAL, fromName: 'Comms\r\nBcc: x@example.com' }, ['fromName'])).toMatch(/line breaks/);
      refusedAt(createCampaignInput, { ...MINIMAL, fromName: 'Comms\nTeam' }, ['fromName']);
    });

    it('refuses a sender name over 120 characters', () => {
      refusedAt(createCampaignInput, { ...MINIMAL, fromName: 'x'.repeat(121) }, ['fromName']);
    });

    it('refuses an invalid sender address', () => {
      expect(refusedAt(createCampaignInput, { ...MINIMAL, fromAddress: 'comms' }, ['fromAddress'])).toBe('is not a valid email address');
      refusedAt(createCampaignInput, { ...MINIMAL, fromAddress: 'comms@example.com\r\nBcc: x@example.com' }, ['fromAddress']);
    });
  });

  describe('body', () => {
    it('refuses an empty body', () => {
      expect(refusedAt(createCampaignInput, { ...MINIMAL, body: '' }, ['body'])).toBe('must not be empty');
    });

    it('refuses a body over 200,000 characters', () => {
      refusedAt(createCampaignInput, { ...MINIMAL, body: 'x'.repeat(200_001) }, ['body']);
      expect(createCampaignInput.safeParse({ ...MINIMAL, body: 'x'.repeat(200_000) }).success).toBe(true);
    });
  });

  describe('audience', () => {
    it('refuses duplicate explicit recipients, after normalisation, at the later one', () => {
      const value = {
        ...MINIMAL,
        audience: { recipients: [{ email: 'ada@example.com' }, { email: 'bob@example.com' }, { email: '  ADA@example.com ' }] },
      };
      const issues = issuesOf(createCampaignInput, value);
      expect(issues).toEqual([
        { path: ['audience', 'recipients', 2, 'email'], message: 'duplicate address ada@example.com', code: 'custom' },
      ]);
    });

    it('reports every repeat of a duplicated address', () => {
      const value = {
        ...MINIMAL,
        audience: { recipients: [{ email: 'a@example.com' }, { email: 'a@example.com' }, { email: 'A@example.com' }] },
      };
      expect(issuesOf(createCampaignInput, value).map((i) => i.path)).toEqual([
        ['audience', 'recipients', 1, 'email'],
        ['audience', 'recipients', 2, 'email'],
      ]);
    });

    it('accepts distinct explicit recipients', () => {
      const value = { ...MINIMAL, audience: { recipients: [{ email: 'a@example.com' }, { email: 'b@example.com' }] } };
      expect(createCampaignInput.safeParse(value).success).toBe(true);
    });

    it('names the field path of an invalid explicit recipient', () => {
      const value = { ...MINIMAL, audience: { recipients: [{ email: 'a@example.com' }, { email: 'nope' }] } };
      expect(refusedAt(createCampaignInput, value, ['audience', 'recipients', 1, 'email'])).toBe('is not a valid email address');
    });

    it('names the field path of a recipient name with a line break', () => {
      const value = { ...MINIMAL, audience: { recipients: [{ email: 'a@example.com', name: 'A\r\nB' }] } };
      refusedAt(createCampaignInput, value, ['audience', 'recipients', 0, 'name']);
    });

    it('refuses more than 5000 explicit recipients', () => {
      const recipients = Array.from({ length: 5001 }, (_, i) => ({ email: `user${i}@example.com` }));
      refusedAt(createCampaignInput, { ...MINIMAL, audience: { recipients } }, ['audience', 'recipients']);
      expect(createCampaignInput.safeParse({ ...MINIMAL, audience: { recipients: recipients.slice(0, 5000) } }).success).toBe(true);
    });

    it('refuses more than 50 lists, and empty list ids', () => {
      const listIds = Array.from({ length: 51 }, (_, i) => `list-${i}`);
      refusedAt(createCampaignInput, { ...MINIMAL, audience: { listIds } }, ['audience', 'listIds']);
      refusedAt(createCampaignInput, { ...MINIMAL, audience: { listIds: ['ok', ''] } }, ['audience', 'listIds', 1]);
    });

    it('refuses unknown keys in the audience', () => {
      expect(issuesOf(createCampaignInput, { ...MINIMAL, audience: { listIds: [], everyone: true } })[0]!.code).toBe('unrecognized_keys');
    });

    it('requires an audience', () => {
      const { audience: _audience, ...noAudience } = MINIMAL;
      refusedAt(createCampaignInput, noAudience, ['audience']);
    });
  });

  describe('sendAt', () => {
    it.each(['2030-01-02T09:00:00Z', '2030-01-02T09:00:00.123Z', '2030-01-02T10:00:00+01:00', '2030-01-02T04:00:00-05:00'])(
      'accepts %s',
      (sendAt) => {
        expect(createCampaignInput.parse({ ...MINIMAL, sendAt }).sendAt).toBe(sendAt);
      },
    );

    it('accepts null (send as soon as approved) and absence', () => {
      expect(createCampaignInput.parse({ ...MINIMAL, sendAt: null }).sendAt).toBeNull();
      expect(createCampaignInput.parse(MINIMAL).sendAt).toBeUndefined();
    });

    it.each(['2030-01-02T09:00:00', '2030-01-02', 'tomorrow', '', '2030-13-01T00:00:00Z'])('refuses %j', (sendAt) => {
      refusedAt(createCampaignInput, { ...MINIMAL, sendAt }, ['sendAt']);
    });

    it('refuses a number (epoch) as sendAt', () => {
      refusedAt(createCampaignInput, { ...MINIMAL, sendAt: 1893574800000 }, ['sendAt']);
    });
  });

  describe('requiredApprovals', () => {
    it.each([1, 2, 20])('accepts %i', (n) => {
      expect(createCampaignInput.parse({ ...MINIMAL, requiredApprovals: n }).requiredApprovals).toBe(n);
    });

    it.each([0, -1, 21, 1.5, Number.NaN, '2', null])('refuses %j', (n) => {
      refusedAt(createCampaignInput, { ...MINIMAL, requiredApprovals: n }, ['requiredApprovals']);
    });
  });

  it('refuses unknown top-level keys', () => {
    const issues = issuesOf(createCampaignInput, { ...MINIMAL, authorId: 'someone-else' });
    expect(issues[0]!.code).toBe('unrecognized_keys');
  });

  it.each([
    ['subject', { ...MINIMAL, subject: 42 }],
    ['subject', { ...MINIMAL, subject: null }],
    ['body', { ...MINIMAL, body: ['x'] }],
    ['body', { ...MINIMAL, body: undefined }],
    ['audience', { ...MINIMAL, audience: 'everyone' }],
    ['audience', { ...MINIMAL, audience: null }],
  ] as [string, unknown][])('refuses a wrong type for %s', (field, value) => {
    refusedAt(createCampaignInput, value, [field]);
  });

  it('refuses a recipients value that is not an array', () => {
    refusedAt(createCampaignInput, { ...MINIMAL, audience: { recipients: { email: 'a@example.com' } } }, ['audience', 'recipients']);
  });

  it.each([null, [], 'x', 1])('refuses a non-object body: %j', (value) => {
    expect(createCampaignInput.safeParse(value).success).toBe(false);
  });
});

describe('editCampaignInput', () => {
  it('refuses an empty edit: nothing to change', () => {
    expect(issuesOf(editCampaignInput, {}).map((i) => i.message)).toEqual(['nothing to change']);
  });

  it('accepts a single changed field', () => {
    expect(editCampaignInput.parse({ subject: '  New subject ' })).toEqual({ subject: 'New subject' });
    expect(editCampaignInput.parse({ sendAt: null })).toEqual({ sendAt: null });
  });

  it('validates what it is given like create does', () => {
    expect(refusedAt(editCampaignInput, { subject: 'A\r\nBcc: x@example.com' }, ['subject'])).toMatch(/line breaks/);
    refusedAt(editCampaignInput, { subject: '  ' }, ['subject']);
    refusedAt(editCampaignInput, { body: '' }, ['body']);
    refusedAt(editCampaignInput, { fromName: 'A\nB' }, ['fromName']);
    refusedAt(editCampaignInput, { fromAddress: 'nope' }, ['fromAddress']);
    refusedAt(editCampaignInput, { sendAt: '2030-01-02T09:00:00' }, ['sendAt']);
    refusedAt(editCampaignInput, { requiredApprovals: 0 }, ['requiredApprovals']);
    refusedAt(editCampaignInput, { subject: 5 }, ['subject']);
  });

  it('refuses duplicate explicit recipients with the field path', () => {
    const value = { audience: { recipients: [{ email: 'a@example.com' }, { email: 'A@Example.com' }] } };
    expect(refusedAt(editCampaignInput, value, ['audience', 'recipients', 1, 'email'])).toBe('duplicate address a@example.com');
  });

  it('normalises addresses', () => {
    expect(editCampaignInput.parse({ fromAddress: ' X@Example.COM' })).toEqual({ fromAddress: 'x@example.com' });
  });

  it('refuses unknown keys (no status or author changes through edit)', () => {
    expect(issuesOf(editCampaignInput, { status: 'scheduled' })[0]!.code).toBe('unrecognized_keys');
    expect(issuesOf(editCampaignInput, { subject: 'ok', authorId: 'x' })[0]!.code).toBe('unrecognized_keys');
  });
});
