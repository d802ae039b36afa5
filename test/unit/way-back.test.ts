import { describe, expect, it } from 'vitest';
import { pageAbove } from '../../src/http/way-back.js';

describe('pageAbove: where a refusal or a missing page links back to', () => {
  it.each([
    ['/campaigns/c1/submit', { href: '/campaigns/c1', label: 'Back to the campaign' }],
    ['/campaigns/c1/halt', { href: '/campaigns/c1', label: 'Back to the campaign' }],
    ['/campaigns/c1', { href: '/', label: 'Go to the campaigns' }],
    ['/lists/l1/import', { href: '/lists/l1', label: 'Back to the list' }],
    ['/lists/l1', { href: '/lists', label: 'Go to the lists' }],
    ['/admin/users/u1/deactivate', { href: '/admin', label: 'Back to Admin' }],
    ['/account/tokens/t1/revoke', { href: '/account', label: 'Back to your account' }],
  ])('%s leads to %j', (path, expected) => {
    expect(pageAbove(path)).toEqual(expected);
  });

  it.each(['/', '/no-such-page', '/campaigns', '/approve/x', '/constructor/x/y'])('%s has no page above it', (path) => {
    expect(pageAbove(path)).toBeUndefined();
  });

  it('keeps a percent-encoded id as it came', () => {
    expect(pageAbove('/campaigns/a%2Fb/submit')?.href).toBe('/campaigns/a%2Fb');
  });
});
