import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/http/app.js';
import { createMailer } from '../../src/mail/transport.js';
import { createRedis } from '../../src/queue/connection.js';
import type { AppContext } from '../../src/services/context.js';
import { Harness, people } from '../support/harness.js';

/** The same app over a context with some parts swapped out, on a port of its own. */
async function serveWith(ctx: AppContext): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(createApp(ctx));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('operating it: health, readiness and what the API refuses', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
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

    const deadRedis = createRedis('redis://127.0.0.1:1', { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
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
    await h.addUser('root', ['admin']);
    expect((await h.api('root', 'POST', '/resume-all')).status).toBe(200);
  });

  it('refuses a form-encoded body with 415 and a hint to send JSON, and changes nothing', async () => {
    const form = await h.api('author', 'POST', '/lists', 'name=Staff', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    expect(form.body).toMatchObject({ error: 'unsupported_media_type', message: expect.stringContaining('Content-Type: application/json') });
    expect((await h.api('author', 'GET', '/lists')).body.lists).toEqual([]);
    // CSV is still welcome where a route reads it.
    await h.addUser('keeper', ['admin']);
    const csv = await h.api('keeper', 'POST', '/suppressions', 'email,kind,reason\ngone@corp.example.com,left,left in May\n', { 'content-type': 'text/csv' });
    expect(csv.status).toBe(200);
  });

  it('refuses a send time in the past, naming it, and keeps the draft as it was', async () => {
    const past = await h.api('author', 'POST', '/campaigns', { subject: 'Old news', body: 'Hi', audience: { recipients: people(1, 'old') }, sendAt: '2020-03-01T09:00:00Z' });
    expect(past.status).toBe(400);
    expect(past.body.issues).toEqual([{ field: 'sendAt', message: expect.stringContaining('2020-03-01T09:00:00.000Z is in the past') }]);

    const id = await h.createCampaign({ subject: 'Later news', recipients: people(1, 'later') });
    const edited = await h.api('author', 'PATCH', `/campaigns/${id}`, { sendAt: '2020-03-01T09:00:00Z' });
    expect(edited.status).toBe(400);
    expect((await h.api('author', 'GET', `/campaigns/${id}`)).body.sendAt).toBeNull();
  });
});
