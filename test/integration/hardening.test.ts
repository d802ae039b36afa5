import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { Harness } from '../support/harness.js';
import { WebClient } from '../support/web-client.js';

describe('hardening at the HTTP door', () => {
  let h: Harness;
  const servers: Server[] = [];

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
  });
  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await h?.stop();
  });

  /** The same deployment served again with another TRUST_PROXY, as `countersign api` would start with it. */
  async function servedWith(trustProxy: string): Promise<string> {
    const app = createApp({ ...h.ctx, config: { ...h.config, TRUST_PROXY: loadConfig({ TRUST_PROXY: trustProxy }).TRUST_PROXY } });
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** Sign-in answers for `email` from six clients the proxy names in turn: a proxy that is trusted tells them apart. */
  async function sixClientsAsk(baseUrl: string, email: string): Promise<number[]> {
    const statuses = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await new WebClient(baseUrl, { 'X-Forwarded-For': `198.51.100.${i + 1}` }).post('/sign-in', { email })).status);
    return statuses;
  }

  it.each([
    ['1', 'one proxy in front'],
    ['true', 'every peer a proxy'],
    ['127.0.0.1/8, 10.0.0.0/8', 'a CIDR list that holds the proxy'],
  ])('TRUST_PROXY=%s (%s) starts, and the client the proxy names is the client', async (value) => {
    const baseUrl = await servedWith(value);
    expect(await sixClientsAsk(baseUrl, `trusted-${value.replace(/\W/g, '')}@corp.example.com`)).toEqual([200, 200, 200, 200, 200, 200]);
  });

  it.each(['false', '10.0.0.0/8'])('TRUST_PROXY=%s does not trust the loopback peer: its X-Forwarded-For is ignored', async (value) => {
    const baseUrl = await servedWith(value);
    expect(await sixClientsAsk(baseUrl, `untrusted-${value.replace(/\W/g, '')}@corp.example.com`)).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('answers 400 for a paging parameter out of bounds, naming it, and pages right up to the bound', async () => {
    const list = await h.api('author', 'POST', '/lists', { name: 'Paged' });
    const huge = '99999999999999999999';
    const campaignId = await h.createCampaign({ subject: 'Paged', recipients: [{ email: 'ann@corp.example.com', name: 'Ann' }] });
    const refused = await Promise.all([
      h.api('author', 'GET', `/lists/${list.body.id}/members?offset=${huge}`),
      h.api('author', 'GET', `/lists/${list.body.id}/members?limit=${huge}`),
      h.api('author', 'GET', `/campaigns?offset=${huge}`),
      h.api('author', 'GET', `/campaigns/${campaignId}/deliveries?after=${huge}`),
      h.api('author', 'GET', `/campaigns?offset=-1`),
      // Numbers JavaScript holds exactly, but past what the database compares a position with.
      h.api('author', 'GET', `/campaigns/${campaignId}/deliveries?after=2147483648`),
      h.api('author', 'GET', `/lists/${list.body.id}/members?offset=9007199254740991`),
    ]);
    expect(refused.map((r) => [r.status, r.body.error, r.body.issues[0].field])).toEqual([
      [400, 'invalid_input', 'query.offset'],
      [400, 'invalid_input', 'query.limit'],
      [400, 'invalid_input', 'query.offset'],
      [400, 'invalid_input', 'query.after'],
      [400, 'invalid_input', 'query.offset'],
      [400, 'invalid_input', 'query.after'],
      [400, 'invalid_input', 'query.offset'],
    ]);
    expect((await h.api('author', 'GET', `/lists/${list.body.id}/members?offset=2147483647`)).body).toEqual({ members: [] });

    const browser = await h.signIn('author');
    const page = await browser.get(`/lists/${list.body.id}?offset=${huge}`);
    expect(page.status).toBe(400);
    expect(await page.text()).toContain('offset');
    expect((await browser.get(`/lists/${list.body.id}?offset=2147483647`)).status).toBe(200);
  });

  it('sends a strict Content-Security-Policy with every response, and no page holds inline script or style', async () => {
    const browser = await h.signIn('author');
    const campaignId = await h.createCampaign({ subject: 'Policy', recipients: [{ email: 'ann@corp.example.com', name: 'Ann' }] });
    await h.submitCampaign(campaignId);
    await h.flushNotifications();
    const approvalLink = h.approvalLinks('Policy').get(h.users.alice!.email)!;
    const pages = ['/', '/campaigns/new', `/campaigns/${campaignId}`, '/lists', '/admin', '/no-such-page'];
    const responses = [
      ...(await Promise.all(pages.map((path) => browser.get(path)))),
      await new WebClient(h.baseUrl).get('/sign-in'),
      await new WebClient(h.baseUrl).get(approvalLink),
      await new WebClient(h.baseUrl).get('/assets/app.js'),
      await fetch(`${h.baseUrl}/api/v1/me`),
    ];
    for (const response of responses) {
      const policy = response.headers.get('content-security-policy') ?? '';
      const directives = Object.fromEntries(policy.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1)]));
      expect(directives).toMatchObject({
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'style-src': ["'self'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
      });
      // Inline styles only by hash, for the email layout's own declarations; never inline script.
      expect(policy).not.toContain("'unsafe-inline'");
      expect(directives['style-src-attr']!.slice(1).every((source: string) => /^'sha256-[A-Za-z0-9+/]+=*'$/.test(source))).toBe(true);
    }
    for (const response of responses.slice(0, 8)) {
      expect(response.headers.get('content-type')).toMatch(/text\/html/);
      const text = await response.text();
      // A script element with content, a style element, a style or event-handler attribute (srcdoc holds its own, escaped).
      expect(text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
      expect(text).not.toMatch(/<style[\s>]/);
      expect(text).not.toMatch(/\s(style|on[a-z]+)="/);
    }
  });
});
