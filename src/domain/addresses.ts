import { z } from 'zod';

// Deliberately stricter than RFC 5322: mass mail goes to corporate mailboxes, and a
// quoted local part or an address literal there is far more likely a typo than intent.
const EMAIL_PATTERN = /^[a-z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** The one normal form of an address: the ledger is unique on it. */
export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

export function isValidEmail(normalised: string): boolean {
  const local = normalised.slice(0, normalised.lastIndexOf('@'));
  return (
    normalised.length <= 254 &&
    local.length <= 64 &&
    EMAIL_PATTERN.test(normalised) &&
    !normalised.includes('..') &&
    !local.startsWith('.') &&
    !local.endsWith('.')
  );
}

export const emailAddress = z.string().transform(normaliseEmail).refine(isValidEmail, { message: 'is not a valid email address' });

/** Text that ends up in a mail header: CR or LF there would let input add headers of its own. */
export const headerText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !/[\r\n]/.test(value), { message: 'must not contain line breaks (CR or LF)' });

/** The domain part, used for Message-IDs and List-Id so they stay stable per sender. */
export function emailDomain(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1);
}

/** A domain is the organisation's own when it is one of `ownDomains` or a subdomain of one. */
export function isOwnDomain(domain: string, ownDomains: readonly string[]): boolean {
  const d = domain.toLowerCase();
  return ownDomains.some((own) => d === own || d.endsWith(`.${own}`));
}
