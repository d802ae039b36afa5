import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../support/harness.js';
import { WebClient } from '../support/web-client.js';

const SUBJECT = 'Your Countersign sign-in link';

describe('sign-in, sessions and CSRF', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false, env: { SSO_EMAIL_HEADER: 'X-Forwarded-Email' } });
    await h.addUser('author', ['author']);
    await h.addUser('alice', ['approver']);
  });
  afterAll(() => h?.stop());

  const linksTo = (email: string) => h.sink.to(email).filter((m) => m.parsed.subject === SUBJECT).map((m) => /(https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+)/.exec(m.parsed.text ?? '')![1]!);

  it('answers the same for an unknown address and sends nothing', async () => {
    const client = new WebClient(h.baseUrl);
    const known = await (await client.post('/sign-in', { email: h.users.author!.email })).text();
    const unknown = await (await client.post('/sign-in', { email: 'nobody@corp.example.com' })).text();
    await h.flushNotifications();
    expect(unknown).toContain('If that address belongs to a Countersign user');
    expect(known).toContain('If that address belongs to a Countersign user');
    expect(h.sink.to('nobody@corp.example.com')).toHaveLength(0);
    expect(linksTo(h.users.author!.email)).toHaveLength(1);
  });

  it('a link opened in another browser neither signs in nor burns the link; it works once in the browser that asked', async () => {
    const asker = new WebClient(h.baseUrl);
    await asker.post('/sign-in', { email: h.users.alice!.email });
    await h.flushNotifications();
    const link = linksTo(h.users.alice!.email).at(-1)!;

    const other = new WebClient(h.baseUrl);
    expect((await other.get(link)).status).toBe(200);
    const refused = await other.post(link, {});
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('works only in the browser where you asked for it');
    expect(other.cookies.has('cs_session')).toBe(false);

    const done = await asker.post(link, {});
    expect(done.status).toBe(303);
    const cookie = done.headers.getSetCookie().find((c) => c.startsWith('cs_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect((await asker.get('/')).status).toBe(200);
    expect((await asker.post(link, {})).status).toBe(403);
  });

  it('refuses a form without the CSRF token and changes nothing', async () => {
    const client = await h.signIn('author');
    const refused = await client.post('/lists', { name: 'Forged' });
    expect(refused.status).toBe(403);
    expect((await h.api('author', 'GET', '/lists')).body.lists.map((l: { name: string }) => l.name)).not.toContain('Forged');
    const made = await client.post('/lists', { name: 'Genuine', _csrf: await client.csrf('/lists') });
    expect(made.status).toBe(303);
  });

  it('sends a person with no session to sign in, and back to where they were going', async () => {
    const response = await new WebClient(h.baseUrl).get('/campaigns/new');
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/sign-in?returnTo=%2Fcampaigns%2Fnew');
  });

  it('limits sign-in requests per address', async () => {
    const client = new WebClient(h.baseUrl);
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await client.post('/sign-in', { email: 'limited@corp.example.com' })).status);
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(statuses.slice(5)).toEqual([429, 429]);
  });

  it('signs in through a trusted proxy header only when it is configured, and only for known users', async () => {
    const viaProxy = new WebClient(h.baseUrl);
    const page = await viaProxy.request('/', { headers: { 'X-Forwarded-Email': h.users.alice!.email } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Alice Tester');
    const stranger = await new WebClient(h.baseUrl).request('/', { headers: { 'X-Forwarded-Email': 'mallory@corp.example.com' } });
    expect(stranger.status).toBe(403);
  });
});

describe('without SSO configured', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addUser('alice', ['approver']);
  });
  afterAll(() => h?.stop());

  it('ignores the proxy header', async () => {
    const response = await new WebClient(h.baseUrl).request('/', { headers: { 'X-Forwarded-Email': h.users.alice!.email } });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(/^\/sign-in/);
  });
});
