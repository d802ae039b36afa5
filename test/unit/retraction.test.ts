import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { NO_POLICY } from '../../src/domain/policy.js';
import { countOf, DRY_RUN_OUTCOMES, dryRunOutcome, itemOutcome, retractionQuorum, servesAddress } from '../../src/domain/retraction.js';
import { parsePolicy } from '../../src/policy-file.js';

describe("retractionQuorum: the correction's approvers plus an admin", () => {
  const approver = (id: string) => ({ approverId: id, roles: ['approver' as const] });
  const admin = (id: string) => ({ approverId: id, roles: ['admin' as const] });

  it('two approvers are not enough without an admin, and an admin alone is not enough', () => {
    expect(retractionQuorum(2, [approver('a'), approver('b')], 'req')).toMatchObject({ met: false, missing: ['an admin'] });
    expect(retractionQuorum(2, [admin('c')], 'req')).toMatchObject({ met: false, missing: ['2 more approvers'] });
    expect(retractionQuorum(2, [approver('a'), approver('b'), admin('c')], 'req')).toMatchObject({
      met: true,
      approvers: 2,
      admin: true,
      missing: [],
    });
  });

  it('counts each person once, as approver or as the admin, and never the requester', () => {
    const both = { approverId: 'd', roles: ['approver' as const, 'admin' as const] };
    expect(retractionQuorum(2, [approver('a'), both], 'req')).toMatchObject({ met: false, missing: ['1 more approver'] });
    expect(retractionQuorum(2, [approver('a'), approver('b'), both], 'req').met).toBe(true);
    // An admin who is not an approver takes the admin seat, so the one with both roles counts as an approver.
    expect(retractionQuorum(2, [approver('a'), both, admin('c')], 'req').met).toBe(true);
    expect(retractionQuorum(2, [approver('a'), approver('a'), admin('c')], 'req').met).toBe(false);
    expect(retractionQuorum(2, [approver('a'), approver('b'), admin('req')], 'req')).toMatchObject({ met: false, missing: ['an admin'] });
  });

  it('an author-only person counts for nothing', () => {
    expect(retractionQuorum(1, [{ approverId: 'x', roles: ['author'] }, admin('c')], 'req')).toMatchObject({ met: false, approvers: 0 });
  });
});

describe('retraction outcomes', () => {
  it('serves exactly the configured domains, never a subdomain or a look-alike', () => {
    const domains = ['corp.example.com'];
    expect(servesAddress(domains, 'ana@corp.example.com')).toBe(true);
    expect(servesAddress(domains, 'Ana@CORP.example.com')).toBe(true);
    expect(servesAddress(domains, 'ana@eu.corp.example.com')).toBe(false);
    expect(servesAddress(domains, 'ana@corp.example.com.evil.org')).toBe(false);
    expect(servesAddress([], 'ana@corp.example.com')).toBe(false);
  });

  it('a found message would be removed in a dry run and is removed in a run', () => {
    expect(dryRunOutcome('found')).toBe('would_remove');
    expect(dryRunOutcome('already_deleted')).toBe('already_deleted');
    expect(itemOutcome('found', false)).toEqual({ status: 'removed', note: '' });
    expect(itemOutcome('not_found', true)).toEqual({ status: 'not_found', note: '' });
  });

  it('a row taken over after an interrupted attempt that finds the message in Trash reports it removed, saying why', () => {
    expect(itemOutcome('already_deleted', false)).toEqual({ status: 'already_deleted', note: '' });
    expect(itemOutcome('already_deleted', true)).toEqual({ status: 'removed', note: 'found in Trash after an interrupted attempt' });
  });

  it('counts every outcome, zero when absent, and ignores keys it does not know', () => {
    expect(
      countOf(DRY_RUN_OUTCOMES, [
        { key: 'would_remove', n: '3' },
        { key: 'bogus', n: 9 },
      ]),
    ).toEqual({ would_remove: 3, not_found: 0, already_deleted: 0, failed: 0, not_retractable: 0 });
  });
});

describe('turning retraction on', () => {
  it('is off by default and on only with the policy rule', () => {
    expect(NO_POLICY.retraction).toBeUndefined();
    expect(parsePolicy('retraction: { allowed: true }').retraction).toEqual({ allowed: true });
    expect(() => parsePolicy('retraction: { allowed: yes please }')).toThrow(/line 1 \(retraction.allowed\)/);
  });

  it('an IMAP backend needs its master login and the domains it serves, and a URL without credentials', () => {
    expect(() => loadConfig({ RETRACT_IMAP_URL: 'imaps://mail.example.com:993' })).toThrow(
      /RETRACT_IMAP_URL: needs RETRACT_IMAP_MASTER_USER/,
    );
    expect(() =>
      loadConfig({
        RETRACT_IMAP_URL: 'imaps://admin:secret@mail.example.com:993',
        RETRACT_IMAP_MASTER_USER: 'm',
        RETRACT_IMAP_MASTER_PASSWORD: 'p',
        RETRACT_DOMAINS: 'example.com',
      }),
    ).toThrow(/RETRACT_IMAP_URL: an imap:\/\/ or imaps:\/\/ URL with host and port only/);
    const config = loadConfig({
      RETRACT_IMAP_URL: 'imaps://mail.example.com:993',
      RETRACT_IMAP_MASTER_USER: 'm',
      RETRACT_IMAP_MASTER_PASSWORD: 'p',
      RETRACT_DOMAINS: 'Example.com, corp.example.com',
    });
    expect(config.RETRACT_DOMAINS).toEqual(['example.com', 'corp.example.com']);
    expect(config).toMatchObject({ RETRACT_CONCURRENCY: 4, RETRACT_RATE_PER_SECOND: 10, RETRACT_MAX_ATTEMPTS: 4 });
  });
});
