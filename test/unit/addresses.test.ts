import { describe, expect, it } from 'vitest';
import { emailAddress, emailDomain, headerText, isValidEmail, normaliseEmail } from '../../src/domain/addresses.js';

describe('normaliseEmail', () => {
  it('trims and lower-cases', () => {
    expect(normaliseEmail('  Ada.Lovelace@Example.COM \t')).toBe('ada.lovelace@example.com');
  });

  it('is idempotent', () => {
    const once = normaliseEmail(' X@Y.Z ');
    expect(normaliseEmail(once)).toBe(once);
  });

  it('strips a trailing CR/LF as outer whitespace', () => {
    expect(normaliseEmail('ada@example.com\r\n')).toBe('ada@example.com');
  });
});

/** A local part of 64 characters and two domain labels of 63, then a last label that brings the address to `total`. */
function addressOfLength(total: number): string {
  const head = `${'l'.repeat(64)}@${'a'.repeat(63)}.${'b'.repeat(63)}.`;
  return head + 'c'.repeat(total - head.length);
}
const LONGEST = addressOfLength(254);
const ONE_TOO_LONG = addressOfLength(255);

describe('isValidEmail (on normalised addresses)', () => {
  it.each([
    'ada@example.com',
    'ada.lovelace@example.com',
    'ada+policy@mail.example.co.uk',
    "o'brien@example.com",
    'first_last-1@sub-domain.example.com',
    'a@b.co',
    'x@a1.example',
    LONGEST,
  ])('accepts %s', (address) => {
    expect(isValidEmail(address)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['no @', 'ada.example.com'],
    ['two @', 'ada@lovelace@example.com'],
    ['no local part', '@example.com'],
    ['no domain', 'ada@'],
    ['domain without a dot', 'ada@localhost'],
    ['space inside', 'ada lovelace@example.com'],
    ['space around (not normalised)', ' ada@example.com'],
    ['upper case (not normalised)', 'Ada@example.com'],
    ['consecutive dots in the local part', 'ada..lovelace@example.com'],
    ['consecutive dots in the domain', 'ada@example..com'],
    ['domain starting with a dot', 'ada@.example.com'],
    ['domain ending with a dot', 'ada@example.com.'],
    ['label starting with a hyphen', 'ada@-example.com'],
    ['label ending with a hyphen', 'ada@example-.com'],
    ['label of 64 characters', 'ada@' + 'a'.repeat(64) + '.com'],
    ['255 characters (every part valid on its own)', ONE_TOO_LONG],
    ['quoted local part', '"ada lovelace"@example.com'],
    ['address literal', 'ada@[192.168.0.1]'],
    ['display-name form', 'Ada <ada@example.com>'],
    ['header injection', 'ada@example.com\r\nbcc: all@example.com'],
    ['embedded LF', 'ada@exa\nmple.com'],
    ['non-ASCII', 'adä@example.com'],
    ['comma list', 'ada@example.com,bob@example.com'],
    ['underscore in the domain', 'ada@ex_ample.com'],
  ])('refuses %s', (_label, address) => {
    expect(isValidEmail(address)).toBe(false);
  });
});

describe('emailAddress (zod)', () => {
  it('normalises before validating', () => {
    expect(emailAddress.parse('  Ada@Example.COM ')).toBe('ada@example.com');
  });

  it('refuses an invalid address with a message that says so', () => {
    const result = emailAddress.safeParse('not an address');
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('is not a valid email address');
  });

  it('refuses an address with CR/LF inside', () => {
    expect(emailAddress.safeParse('ada@example.com\r\nBcc: x@example.com').success).toBe(false);
  });

  it.each([42, null, undefined, {}, ['ada@example.com'], true])('refuses a non-string: %j', (value) => {
    expect(emailAddress.safeParse(value).success).toBe(false);
  });
});

describe('headerText', () => {
  const subject = headerText(10);

  it('accepts ordinary text up to the maximum length', () => {
    expect(subject.parse('Hello')).toBe('Hello');
    expect(subject.parse('x'.repeat(10))).toBe('x'.repeat(10));
    expect(subject.parse('tab\there')).toBe('tab\there');
  });

  it('refuses text over the maximum length', () => {
    expect(subject.safeParse('x'.repeat(11)).success).toBe(false);
  });

  it.each([
    ['CR LF', 'Hi\r\nBcc: x'],
    ['LF', 'Hi\nBcc'],
    ['CR', 'Hi\rBcc'],
    ['trailing LF', 'Hi\n'],
    ['leading CR', '\rHi'],
  ])('refuses %s', (_label, value) => {
    const result = subject.safeParse(value);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.message).toBe('must not contain line breaks (CR or LF)');
  });

  it('refuses a non-string', () => {
    expect(subject.safeParse(5).success).toBe(false);
  });
});

describe('emailDomain', () => {
  it('is the part after the @', () => {
    expect(emailDomain('ada@example.com')).toBe('example.com');
    expect(emailDomain('ada@mail.example.co.uk')).toBe('mail.example.co.uk');
  });
});

describe('isValidEmail and the local part', () => {
  it.each(['.ada@example.com', 'ada.@example.com'])('refuses a dot at the edge of the local part: %s', (address) => {
    expect(isValidEmail(address)).toBe(false);
  });
  it('refuses a local part longer than 64 characters, and takes one of exactly 64', () => {
    expect(isValidEmail(`${'a'.repeat(65)}@example.com`)).toBe(false);
    expect(isValidEmail(`${'a'.repeat(64)}@example.com`)).toBe(true);
  });
});
