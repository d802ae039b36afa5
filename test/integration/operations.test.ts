import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createMailer } from '../../src/mail/transport.js';
import type { AppContext } from '../../src/services/context.js';
import { helpFor, whileLocked } from '../../src/cli.js';
import { createLogger } from '../../src/logger.js';
import { openApiPath } from '../../src/http/openapi.js';
import { apiRouter } from '../../src/http/routes/api.js';
import { Harness, people, testDb } from '../support/harness.js';
import { ROOT } from '../support/processes.js';

const require = createRequire(import.meta.url);

/** The same app over a context with some parts swapped out, on a port of its own. */
async function serveWith(ctx: AppContext): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(createApp(ctx));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const METRICS_TOKEN = 'metrics-token-for-the-scraper';

/** One sample's value from the Prometheus text, or 0 when the series is absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** Every line the app and workers logged during this file. */
const logLines: string[] = [];

describe('operating it: health, readiness and what the API refuses', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({
      workers: false,
      env: { METRICS_TOKEN },
      logger: createLogger({ write: (line: string) => logLines.push(line) }),
    });
    await h.addAuthorAndApprovers();
    await h.addUser('root', ['admin']);
  });
  afterAll(() => h?.stop());

  it('is alive and ready, and says why not when the relay or Redis is gone', async () => {
    expect((await fetch(`${h.baseUrl}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.baseUrl}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      ready: true,
      checks: { database: { ok: true }, redis: { ok: true, detail: expect.stringContaining('noeviction') }, smtp: { ok: true } },
      killSwitch: { engaged: false },
    });

    const deadRedis = new Redis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    deadRedis.on('error', () => {});
    const mailer = createMailer({ smtpUrl: 'smtp://127.0.0.1:1', maxConnections: 1, outboxDir: '/nonexistent' });
    const broken = await serveWith({ ...h.ctx, mailer, queues: { ...h.ctx.queues, redis: deadRedis } });
    try {
      const answer = await fetch(`${broken.url}/readyz`);
      expect(answer.status).toBe(503);
      const report = await answer.json();
      expect(report).toMatchObject({ ready: false, checks: { database: { ok: true }, redis: { ok: false }, smtp: { ok: false } } });
      expect(report.checks.smtp.detail).toMatch(/ECONNREFUSED/);
    } finally {
      await broken.close();
      mailer.close();
      deadRedis.disconnect();
    }

    await h.api('alice', 'POST', '/halt-all', { reason: 'drill' });
    expect(await (await fetch(`${h.baseUrl}/readyz`)).json()).toMatchObject({ ready: true, killSwitch: { engaged: true } });
    expect((await h.api('root', 'POST', '/resume-all')).status).toBe(200);
  });

  it('publishes an OpenAPI 3.1 document naming every route of the API router, and a reference page', async () => {
    const served = await fetch(`${h.baseUrl}/api/v1/openapi.json`);
    expect(served.status).toBe(200);
    const document = await served.json();
    expect(document.openapi).toBe('3.1.0');
    expect(document.servers).toEqual([{ url: `${h.baseUrl}/api/v1` }]);

    const routed = (apiRouter(h.ctx).stack as { route?: { path: string; methods: Record<string, boolean> } }[])
      .flatMap((layer) => (layer.route ? Object.keys(layer.route.methods).map((m) => `${m} ${openApiPath(layer.route!.path)}`) : []))
      .sort();
    const documented = Object.entries(document.paths as Record<string, Record<string, unknown>>)
      .flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m} ${path}`))
      .sort();
    expect(routed.length).toBeGreaterThan(20);
    expect(documented).toEqual(routed);
    // The recipients' shape is spelled out, and examples are there to copy.
    const create = document.paths['/campaigns'].post.requestBody.content['application/json'];
    expect(create.schema.properties.audience.properties.recipients.items.required).toEqual(['email']);
    expect(create.example.audience.recipients[0]).toMatchObject({ email: 'ana@example.com', name: 'Ana Author' });

    const reference = await fetch(`${h.baseUrl}/api/docs`);
    expect(reference.status).toBe(200);
    const text = await reference.text();
    for (const route of routed) expect(text).toContain(`<code>${route.split(' ')[0]!.toUpperCase()} ${route.split(' ')[1]}</code>`);
    expect(text).not.toMatch(/<script>|<script [^>]*>[^<]/);
  });

  it('answers every route as the document says, success and refusal alike', async () => {
    const list = await h.api('author', 'POST', '/lists', { name: 'Documented' });
    expect(list.status).toBe(201);
    expect(Object.keys(list.body).sort()).toEqual(['createdAt', 'createdBy', 'id', 'name']);
    await h.api('author', 'POST', `/lists/${list.body.id}/members`, [
      { email: 'doc0@corp.example.com', name: 'Doc 0', fields: { team: 'A' } },
    ]);
    await h.api('author', 'GET', `/lists/${list.body.id}`);
    expect((await h.api('author', 'GET', '/lists')).body.lists).toEqual([expect.objectContaining({ memberCount: 1 })]);
    await h.api('author', 'GET', `/lists/${list.body.id}/members?q=doc`);
    await h.api('author', 'GET', '/me');

    const id = await h.createCampaign({ subject: 'Documented', listIds: [list.body.id], recipients: people(2, 'doc') });
    await h.api('author', 'PATCH', `/campaigns/${id}`, { subject: 'Documented, edited' });
    const hash = await h.submitCampaign(id);
    await h.api('alice', 'POST', `/campaigns/${id}/reject`, { reason: 'not yet' });
    const again = await h.submitCampaign(id);
    expect(again).toBe(hash);
    expect(await h.approveCampaign(id, again)).toBe('scheduled');
    await h.api('alice', 'POST', `/campaigns/${id}/test-send`, {});
    expect((await h.api('alice', 'POST', `/campaigns/${id}/halt`, { reason: 'documented' })).body).toMatchObject({
      status: 'halted',
      stopped: 3,
    });
    await h.api('author', 'GET', `/campaigns/${id}`);
    await h.api('author', 'GET', '/campaigns?status=halted');
    await h.api('author', 'GET', `/campaigns/${id}/deliveries`);
    expect((await h.api('author', 'GET', `/campaigns/${id}/deliveries?format=csv`)).text.split('\n')[0]).toBe(
      'seq,email,name,status,messageId,attempts,smtpResponse,claimedAt,finishedAt',
    );
    await h.api('author', 'GET', `/campaigns/${id}/audit`);
    expect((await h.api('author', 'POST', `/campaigns/${id}/recall`, {})).status).toBe(409);
    expect((await h.api('root', 'POST', `/campaigns/${id}/continue`)).status).toBe(409);
    const other = await h.createCampaign({ subject: 'Cancelled', recipients: people(1, 'cancel') });
    await h.api('author', 'POST', `/campaigns/${other}/cancel`);

    await h.api('root', 'POST', '/suppressions', [{ email: 'gone@corp.example.com', kind: 'left', reason: 'left in May' }]);
    expect((await h.api('author', 'GET', '/suppressions')).body.suppressions[0]).toMatchObject({ addedBy: 'root@staff.example.com' });
    expect((await h.api('root', 'DELETE', '/suppressions/gone@corp.example.com')).status).toBe(204);
    await h.api('root', 'POST', '/halt-all', {});
    await h.api('author', 'GET', '/kill-switch');
    await h.api('root', 'POST', '/resume-all');
    await h.api('root', 'GET', '/audit/verify');
    expect((await h.api('author', 'GET', '/audit/verify')).status).toBe(403);
    expect((await h.api('author', 'POST', '/campaigns', { subject: '', audience: 'everyone' })).status).toBe(400);
    expect((await h.api(null, 'GET', '/me')).status).toBe(401);
    expect(h.responses!.checked).toBeGreaterThan(30);
    // The check can fail: the old snake_case shape, or a status the document does not list, is caught.
    const lists = { lists: [{ id: 'x', name: 'x', createdAt: new Date().toISOString(), member_count: 1 }] };
    expect(() => h.responses!.check('GET', '/lists', 200, 'application/json', lists)).toThrow(/does not match the document/);
    expect(() => h.responses!.check('GET', '/lists', 418, 'application/json', {})).toThrow(/does not list/);
  });

  it('exposes Prometheus metrics to the token holder: queues, messages by outcome, halt, quorum and HTTP latency', async () => {
    const scrape = async () => {
      const answer = await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
      expect(answer.status).toBe(200);
      return answer.text();
    };
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(401);
    expect((await fetch(`${h.baseUrl}/metrics`, { headers: { authorization: 'Bearer wrong-token-of-some-length' } })).status).toBe(401);
    const off = await serveWith({ ...h.ctx, config: { ...h.ctx.config, METRICS_TOKEN: undefined } });
    try {
      expect((await fetch(`${off.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } })).status).toBe(404);
    } finally {
      await off.close();
    }

    const before = await scrape();
    const halted = await h.approvedCampaign({ subject: 'Measured halt', recipients: people(2, 'mhalt') });
    await h.api('alice', 'POST', `/campaigns/${halted.id}/halt`, {});
    const sent = await h.approvedCampaign({ subject: 'Measured send', recipients: people(3, 'msend') });
    const waiting = await scrape();
    // Approval requests wait in the notify queue: no worker runs yet.
    expect(sample(waiting, 'countersign_queue_jobs{queue="notify",state="waiting"}')).toBeGreaterThan(0);
    expect(sample(waiting, 'countersign_queue_oldest_waiting_seconds{queue="notify"}')).toBeGreaterThan(0);
    expect(sample(waiting, 'countersign_halt_duration_seconds_count') - sample(before, 'countersign_halt_duration_seconds_count')).toBe(1);
    expect(sample(waiting, 'countersign_time_to_quorum_seconds_count') - sample(before, 'countersign_time_to_quorum_seconds_count')).toBe(
      2,
    );
    expect(waiting).toMatch(
      /countersign_http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/campaigns\/:id\/halt",status="200"\} \d+/,
    );
    expect(waiting).not.toContain(halted.id);

    h.startWorkers();
    await h.waitForStatus(sent.id, 'sent');
    const after = await h.until(
      scrape,
      (text) => sample(text, 'countersign_queue_jobs{queue="notify",state="waiting"}') === 0,
      'the notify queue to drain',
    );
    expect(sample(after, 'countersign_messages_total{outcome="sent"}') - sample(before, 'countersign_messages_total{outcome="sent"}')).toBe(
      3,
    );
    expect(sample(after, 'countersign_queue_oldest_waiting_seconds{queue="notify"}')).toBe(0);
  });

  it('shows admins, and only them, the queues: counts, oldest waiting, failures with reasons but never job data', async () => {
    if (!h.workers) h.startWorkers();
    const secret = `${h.baseUrl}/approve/Secret-Token-0123456789`;
    const job = await h.ctx.queues.notify.add('malformed', { link: secret, to: 'someone@corp.example.com' }, { attempts: 1 });
    await h.until(
      () => job.getState(),
      (state) => state === 'failed',
      'the malformed job to fail',
    );

    const author = await h.signIn('author');
    expect((await author.get('/admin/queues')).status).toBe(403);
    const admin = await h.signIn('root');
    const answer = await admin.get('/admin/queues');
    expect(answer.status).toBe(200);
    const page = await answer.text();
    expect(page).toMatch(/<th scope="row">notify<\/th>(<td>\d+<\/td>){5}<td>[^<]+<\/td>/);
    expect(page).toContain(`malformed #${job.id}`);
    expect(page).toContain('Invalid input');
    expect(page).not.toContain('Secret-Token-0123456789');
    expect(page).not.toContain('someone@corp.example.com');
    expect(await (await admin.get('/admin')).text()).toContain('href="/admin/queues"');
  });

  it('logs one JSON line per event, with request id, campaign and actor, and never a token or link', async () => {
    if (!h.workers) h.startWorkers();
    const id = await h.createCampaign({ subject: 'Logged', recipients: people(3, 'logged') });
    await h.submitCampaign(id);
    await h.sink.waitUntil(() => h.approvalLinks('Logged').size === 2, 30_000, 'approval links');
    const link = h.approvalLinks('Logged').get(h.users.alice!.email)!;
    await fetch(link);
    const alice = await h.signIn('alice');
    await alice.get(link);
    const decided = await alice.post(link, { _csrf: await alice.csrf('/'), decision: 'approve', recipientCount: '3' });
    expect(decided.status).toBeLessThan(400);
    await h.signIn('bob');

    const events = logLines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.every((e) => typeof e.time === 'number' && typeof e.level === 'number' && typeof e.msg === 'string')).toBe(true);
    const requests = events.filter((e) => e.msg === 'request');
    expect(requests.every((e) => typeof e.reqId === 'string')).toBe(true);
    expect(requests).toContainEqual(
      expect.objectContaining({ route: '/api/v1/campaigns/:id/submit', campaignId: id, actor: h.users.author!.email, status: 200 }),
    );
    expect(requests).toContainEqual(
      expect.objectContaining({ route: '/approve/:token', path: '/approve/[redacted]', method: 'POST', actor: h.users.alice!.email }),
    );
    expect(requests).toContainEqual(expect.objectContaining({ route: '/sign-in/:token', path: '/sign-in/[redacted]' }));

    // Every one-time link that was mailed during this file, every API token, and the job data with a link in it.
    const mailed = h.sink.messages.flatMap((m) =>
      [...(m.parsed.text ?? '').matchAll(/\/(?:approve|sign-in)\/([A-Za-z0-9_-]{16,})/g)].map((match) => match[1]!),
    );
    expect(mailed.length).toBeGreaterThan(4);
    const secrets = [...mailed, ...Object.values(h.users).map((u) => u.token), 'Secret-Token-0123456789'];
    for (const line of logLines) for (const secret of secrets) expect(line).not.toContain(secret);
  });

  it('refuses a form-encoded body with 415 and a hint to send JSON, and changes nothing', async () => {
    const form = await h.api('author', 'POST', '/lists', 'name=Staff', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body).toMatchObject({
      error: 'unsupported_media_type',
      message: expect.stringContaining('Content-Type: application/json'),
    });
    expect((await h.api('author', 'GET', '/lists')).body.lists.map((l: { name: string }) => l.name)).not.toContain('Staff');
    // CSV is still welcome where a route reads it.
    const csv = await h.api('root', 'POST', '/suppressions', 'email,kind,reason\ngone@corp.example.com,left,left in May\n', {
      'content-type': 'text/csv',
    });
    expect(csv.status).toBe(200);
  });

  it('refuses a send time in the past, naming it, and keeps the draft as it was', async () => {
    const past = await h.api('author', 'POST', '/campaigns', {
      subject: 'Old news',
      body: 'Hi',
      audience: { recipients: people(1, 'old') },
      sendAt: '2020-03-01T09:00:00Z',
    });
    expect(past.status).toBe(400);
    expect(past.body.issues).toEqual([{ field: 'sendAt', message: expect.stringContaining('2020-03-01T09:00:00.000Z is in the past') }]);

    const id = await h.createCampaign({ subject: 'Later news', recipients: people(1, 'later') });
    const edited = await h.api('author', 'PATCH', `/campaigns/${id}`, { sendAt: '2020-03-01T09:00:00Z' });
    expect(edited.status).toBe(400);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.sendAt).toBeNull();
  });
});

// The CLI's own behaviour does not depend on the database behind it, and the lock is PGlite's: once is enough.
describe.runIf(testDb() === 'pglite')('the CLI as a person runs it', () => {
  const cli = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, 'src/cli.ts', ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, DATABASE_URL: '', ...env },
    });

  it('answers --help for every command without opening a database, and names a bad option', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'countersign-help-'));
    const sub = cli(['list', 'import', '--help'], { DATA_DIR: dataDir });
    expect(sub.status).toBe(0);
    expect(sub.stdout).toMatch(/^countersign list import --name N --file F/);
    expect(sub.stdout).toContain('--as E');
    expect(readdirSync(dataDir)).toEqual([]);
    for (const command of [
      'migrate',
      'user add',
      'user list',
      'token issue',
      'token list',
      'token revoke',
      'list import',
      'audit verify',
    ]) {
      expect(helpFor([...command.split(' '), '--help'])).toMatch(new RegExp(`^countersign ${command}`));
    }
    expect(helpFor(['-h'])).toContain('user add --email E --name N --roles R[,R]');
    expect(helpFor(['user', 'add', '--email', 'x@example.com'])).toBeNull();

    const bad = cli(['user', 'add', '--mail', 'x@example.com'], { DATA_DIR: dataDir });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("error: Unknown option '--mail'; countersign --help lists the commands");
  });

  it('while a server holds the embedded database, says how to proceed with that very command', () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'countersign-held-'));
    // The lock a running `npm start` holds: a live process's pid (this test's) in DATA_DIR/pglite.lock.
    writeFileSync(path.join(dataDir, 'pglite.lock'), String(process.pid));
    const add = cli(['user', 'add', '--email', 'eve@example.com', '--name', 'Eve', '--roles', 'author'], { DATA_DIR: dataDir });
    expect(add.status).toBe(1);
    expect(add.stderr).toContain(`in use by another Countersign process (pid ${process.pid})`);
    expect(add.stderr).toContain('While the server runs: add the person on the Admin page (/admin)');
    expect(whileLocked(['token', 'issue', '--email', 'e@example.com'], 'held.')).toContain(
      'While the server runs: stop the server (Ctrl-C on npm start)',
    );
    expect(whileLocked(['list', 'import', '--name', 'Staff'], 'held.')).toContain('the Lists page (/lists)');
  });
});
