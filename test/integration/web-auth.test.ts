import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashToken } from '../../src/services/users.js';
import { Harness } from '../support/harness.js';
import { WebClient } from '../support/web-client.js';

const SUBJECT = 'Your Countersign sign-in link';

describe('sign-in, sessions and CSRF', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false, env: { SSO_EMAIL_HEADER: 'X-Forwarded-Email' } });
    await h.addAuthorAndApprovers();
    await h.addUser('carol', ['author']);
  });
  afterAll(() => h?.stop());

  const signInEmails = (email: string) => h.sink.to(email).filter((m) => m.parsed.subject === SUBJECT);
  const linkIn = (text = '') => /(https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+)/.exec(text)![1]!;
  const codeIn = (text = '') => /^ {4}([A-Z2-9]{4}-[A-Z2-9]{4})$/m.exec(text)![1]!;
  const tokenOf = (link: string) => new URL(link).pathname.split('/').at(-1)!;
  /** A browser behind the trusted proxy (loopback), which names the client's own address. */
  const browserAt = (client: string) => new WebClient(h.baseUrl, { 'X-Forwarded-For': client });
  const requestsFor = (email: string) =>
    h.db.selectFrom('sign_in_links').selectAll().where('email', '=', email).orderBy('created_at').execute();
  const queuedJobs = async () =>
    (await h.ctx.queues.notify.getJobs(['waiting', 'prioritized', 'delayed'])).map((job) => job.data as Record<string, unknown>);

  /** The link and code of the email answering the request `browser` made for `email` (an address may get several). */
  async function emailFor(browser: WebClient, email: string): Promise<{ link: string; code: string }> {
    const mine = (await requestsFor(email)).filter((r) => r.browser_hash === hashToken(browser.cookies.get('cs_browser')!) && r.token_hash);
    expect(mine.length).toBeGreaterThan(0);
    const message = signInEmails(email).find((m) => mine.some((r) => r.token_hash === hashToken(tokenOf(linkIn(m.parsed.text)))));
    return { link: linkIn(message!.parsed.text), code: codeIn(message!.parsed.text) };
  }

  it('does the same work whether or not the address is a user: one request row and one queued job, alike; only the worker sends, and only to a user', async () => {
    const client = browserAt('192.0.2.10');
    const queuedBefore = (await queuedJobs()).length;
    const known = await client.post('/sign-in', { email: h.users.carol!.email });
    const unknown = await client.post('/sign-in', { email: 'nobody@corp.example.com' });
    expect([known.status, unknown.status]).toEqual([200, 200]);
    expect(await unknown.text()).toBe(await known.text());

    const [knownRows, unknownRows] = [await requestsFor(h.users.carol!.email), await requestsFor('nobody@corp.example.com')];
    expect([knownRows.length, unknownRows.length]).toEqual([1, 1]);
    const written = (row: (typeof knownRows)[number]) => ({
      ...row,
      id: '(id)',
      email: '(email)',
      created_at: '(time)',
      expires_at: '(time)',
    });
    expect(written(knownRows[0]!)).toEqual(written(unknownRows[0]!));
    expect(knownRows[0]).toMatchObject({ user_id: null, token_hash: null, code_hash: null, sent_at: null });
    const queued = await queuedJobs();
    expect(queued).toHaveLength(queuedBefore + 2);
    expect(queued).toEqual(expect.arrayContaining([{ signInRequestId: knownRows[0]!.id }, { signInRequestId: unknownRows[0]!.id }]));

    await h.flushNotifications();
    expect(h.sink.to('nobody@corp.example.com')).toHaveLength(0);
    expect(signInEmails(h.users.carol!.email)).toHaveLength(1);
    expect(await requestsFor('nobody@corp.example.com')).toMatchObject([
      { user_id: null, token_hash: null, code_hash: null, sent_at: null },
    ]);
    expect(await requestsFor(h.users.carol!.email)).toMatchObject([
      { user_id: h.users.carol!.id, token_hash: expect.any(String), code_hash: expect.any(String) },
    ]);
  });

  it('a link opened in another browser neither signs in nor burns the link; it works once in the browser that asked', async () => {
    const asker = browserAt('192.0.2.11');
    await asker.post('/sign-in', { email: h.users.alice!.email });
    await h.flushNotifications();
    const { link } = await emailFor(asker, h.users.alice!.email);

    const other = browserAt('192.0.2.12');
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

  it('signs in the asking browser with the code from the email, read on another device; the code works nowhere else and only once', async () => {
    const laptop = browserAt('198.51.100.20');
    const phone = browserAt('198.51.100.21');
    // The phone has asked to sign in too, for another address: it has a browser nonce and a live request of its own.
    expect((await phone.post('/sign-in', { email: 'phone-owner@corp.example.com' })).status).toBe(200);
    const asked = await laptop.post('/sign-in', { email: h.users.author!.email });
    expect(await asked.text()).toContain('action="/sign-in/code"');
    await h.flushNotifications();
    const { link, code } = await emailFor(laptop, h.users.author!.email);

    // On the phone the link only says where it works, and the code does not sign the phone in.
    expect(await (await phone.post(link, {})).text()).toContain('type the code from the same email into that browser');
    expect((await phone.post('/sign-in/code', { code })).status).toBe(403);
    expect(phone.cookies.has('cs_session')).toBe(false);

    const wrong = await laptop.post('/sign-in/code', { code: code === 'AAAA-AAAA' ? 'BBBB-BBBB' : 'AAAA-AAAA' });
    expect(wrong.status).toBe(403);
    expect(await wrong.text()).toContain('That code does not sign in this browser');
    // Typed as people type it: any case, a space for the dash.
    const done = await laptop.post('/sign-in/code', { code: code.toLowerCase().replace('-', ' ') });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/');
    expect(await (await laptop.get('/')).text()).toContain('Author Tester');

    const again = browserAt('198.51.100.20');
    again.cookies.set('cs_browser', laptop.cookies.get('cs_browser')!);
    expect((await again.post('/sign-in/code', { code })).status).toBe(403);
    expect((await again.post(link, {})).status).toBe(403);
    expect(again.cookies.has('cs_session')).toBe(false);
  });

  it(`stops a request's code after ${5} wrong tries; its link still works`, async () => {
    const browser = browserAt('198.51.100.30');
    await browser.post('/sign-in', { email: h.users.bob!.email });
    await h.flushNotifications();
    const { link, code } = await emailFor(browser, h.users.bob!.email);
    const wrong = code.startsWith('A') ? 'BBBBBBBB' : 'AAAAAAAA';
    for (let i = 0; i < 5; i++) expect((await browser.post('/sign-in/code', { code: wrong })).status).toBe(403);
    expect((await browser.post('/sign-in/code', { code })).status).toBe(403);
    expect(browser.cookies.has('cs_session')).toBe(false);
    expect((await browser.post(link, {})).status).toBe(303);
    expect(browser.cookies.has('cs_session')).toBe(true);
  });

  it('a lockout attempt from one client does not keep the person from signing in from another', async () => {
    const email = h.users.alice!.email;
    const attacker = browserAt('203.0.113.66');
    const statuses = [];
    for (let i = 0; i < 7; i++) statuses.push((await attacker.post('/sign-in', { email })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // A fresh cookie jar is the same client.
    expect((await browserAt('203.0.113.66').post('/sign-in', { email })).status).toBe(429);

    // Meanwhile Alice, from her own network, asks and signs in.
    const alice = browserAt('198.51.100.7');
    expect((await alice.post('/sign-in', { email })).status).toBe(200);
    await h.flushNotifications();
    const { link } = await emailFor(alice, email);
    expect((await alice.post(link, {})).status).toBe(303);
    expect(await (await alice.get('/')).text()).toContain('Alice Tester');
  });

  it('limits one client asking for many addresses, and only that client', async () => {
    const sprayer = browserAt('203.0.113.77');
    const statuses = [];
    for (let i = 0; i < 101; i++) statuses.push((await sprayer.post('/sign-in', { email: `guess${i}@corp.example.com` })).status);
    expect(statuses.slice(0, 100).every((s) => s === 200)).toBe(true);
    expect(statuses[100]).toBe(429);
    expect((await browserAt('198.51.100.8').post('/sign-in', { email: 'guess100@corp.example.com' })).status).toBe(200);
    await h.flushNotifications();
  });

  it('keeps no approval or sign-in token, code or way back to the approval page in clear, in the database or in Redis', async () => {
    const id = await h.createCampaign({ subject: 'Secrets at rest', recipients: [{ email: 'ann@corp.example.com', name: 'Ann' }] });
    await h.submitCampaign(id);
    // A queued request, as Redis holds it until it is sent (and after, if sending fails for good): no link in it.
    const approvalJobs = (await queuedJobs()).filter((job) => job.subject === 'Approval needed: Secrets at rest');
    expect(approvalJobs).toHaveLength(2);
    for (const job of approvalJobs) expect(JSON.stringify(job)).not.toMatch(/\/approve\//);
    await h.flushNotifications();
    const approvalLink = h.approvalLinks('Secrets at rest').get(h.users.alice!.email)!;
    const approvalPath = new URL(approvalLink).pathname;

    // Alice follows the approval page's sign-in link, types her address and then the code.
    const browser = browserAt('198.51.100.40');
    const page = await (await browser.get(approvalLink)).text();
    expect(page).toContain(`href="/sign-in?returnTo=${encodeURIComponent(approvalPath)}"`);
    const form = await (
      await browser.get(`/sign-in?returnTo=${encodeURIComponent(approvalPath)}&email=${encodeURIComponent(h.users.alice!.email)}`)
    ).text();
    expect(form).toContain('name="email" type="email" autocomplete="email" required value=""');
    expect((await browser.post('/sign-in', { email: h.users.alice!.email, returnTo: approvalPath })).status).toBe(200);
    expect((await queuedJobs()).filter((job) => 'signInRequestId' in job).map((job) => Object.keys(job))).toEqual([['signInRequestId']]);
    await h.flushNotifications();
    const { link, code } = await emailFor(browser, h.users.alice!.email);
    const done = await browser.post('/sign-in/code', { code });
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe(approvalPath);
    expect(browser.cookies.has('cs_return')).toBe(false);
    const sessionToken = browser.cookies.get('cs_session')!;

    const database = await everyRow();
    const redis = await everyRedisValue();
    const secrets = {
      approvalToken: tokenOf(approvalLink),
      signInToken: tokenOf(link),
      code,
      codeUntyped: code.replace('-', ''),
      sessionToken,
    };
    for (const [name, secret] of Object.entries(secrets)) {
      expect(database, name).not.toContain(secret);
      expect(redis, name).not.toContain(secret);
    }
    // What is kept instead: their hashes (so the dump is of the right rows).
    for (const token of [secrets.approvalToken, secrets.signInToken, sessionToken]) expect(database).toContain(hashToken(token));
  });

  /** Every row of every table, as text. */
  async function everyRow(): Promise<string> {
    const tables = await sql<{
      name: string;
    }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public'`.execute(h.db);
    expect(tables.rows.map((t) => t.name)).toEqual(expect.arrayContaining(['sign_in_links', 'approval_links', 'sessions', 'audit_events']));
    const dumps = await Promise.all(
      tables.rows.map((t) => sql<{ row: string }>`SELECT row_to_json(t)::text AS row FROM ${sql.table(t.name)} t`.execute(h.db)),
    );
    return dumps.flatMap((d) => d.rows.map((r) => r.row)).join('\n');
  }

  /** Every key and value under this deployment's prefix in Redis, as text. */
  async function everyRedisValue(): Promise<string> {
    const redis = h.ctx.queues.redis;
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${h.config.QUEUE_PREFIX}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        const type = await redis.type(key);
        const value =
          type === 'string'
            ? await redis.get(key)
            : type === 'hash'
              ? await redis.hgetall(key)
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, 0, -1)
                    : type === 'stream'
                      ? await redis.xrange(key, '-', '+')
                      : null;
        out.push(`${key} ${JSON.stringify(value)}`);
      }
    } while (cursor !== '0');
    expect(out.some((line) => line.includes(':signin:'))).toBe(true);
    return out.join('\n');
  }

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

  it('signs in through a trusted proxy header only when it is configured, and only for known users, without a session row per request', async () => {
    const sessions = async () => (await h.db.selectFrom('sessions').select('id').execute()).length;
    const before = await sessions();
    // Clients that keep no cookies: each request is a first one.
    for (let i = 0; i < 3; i++) {
      const page = await new WebClient(h.baseUrl, { 'X-Forwarded-Email': h.users.alice!.email }).get('/');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Alice Tester');
    }
    const stranger = await new WebClient(h.baseUrl, { 'X-Forwarded-Email': 'mallory@corp.example.com' }).get('/');
    expect(stranger.status).toBe(403);

    // A browser that keeps its cookies submits forms with its CSRF token; another browser's token does not work.
    const browser = new WebClient(h.baseUrl, { 'X-Forwarded-Email': h.users.author!.email });
    const csrf = await browser.csrf('/lists');
    const other = new WebClient(h.baseUrl, { 'X-Forwarded-Email': h.users.author!.email });
    const otherCsrf = await other.csrf('/lists');
    expect(otherCsrf).not.toBe(csrf);
    expect((await browser.post('/lists', { name: 'Forged via SSO', _csrf: otherCsrf })).status).toBe(403);
    expect((await browser.post('/lists', { name: 'Made via SSO', _csrf: csrf })).status).toBe(303);
    const names = (await h.api('author', 'GET', '/lists')).body.lists.map((l: { name: string }) => l.name);
    expect(names).toContain('Made via SSO');
    expect(names).not.toContain('Forged via SSO');
    expect(await sessions()).toBe(before);
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
