import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { loadConfig } from '../../src/config.js';
import { createApp } from '../../src/http/app.js';
import { openDatabase } from '../../src/db/connect.js';
import { createRuntime, databaseTarget, openDatabaseFor, type Runtime } from '../../src/runtime.js';
import { issueApiToken, userByEmail } from '../../src/services/users.js';
import { startWorkers, type Workers } from '../../workers/index.js';
import { REDIS_URL, testDb } from '../support/harness.js';
import { dropQueuePrefix } from '../support/queue-prefix.js';
import { SmtpSink } from '../support/smtp-sink.js';

const ADMIN_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

// Roles are PostgreSQL's own; PGlite has one superuser and nothing to separate.
describe.skipIf(testDb() !== 'postgres')(
  'least privilege on PostgreSQL: the owner migrates, the app may only INSERT and SELECT the audit trail',
  () => {
    const suffix = randomBytes(5).toString('hex');
    const [owner, app, database] = [`cs_owner_${suffix}`, `cs_app_${suffix}`, `cs_lp_${suffix}`];
    const urlAs = (role: string) => {
      const url = new URL(ADMIN_DATABASE_URL);
      url.username = role;
      url.pathname = `/${database}`;
      return url.toString();
    };
    const admin = async (statement: string) => {
      const client = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await client.connect();
      try {
        await client.query(statement);
      } finally {
        await client.end();
      }
    };
    let runtime: Runtime;
    let workers: Workers;
    let sink: SmtpSink;
    let server: Server;
    let baseUrl: string;
    const migrateOutput: string[] = [];

    beforeAll(async () => {
      await admin(`CREATE ROLE ${owner} LOGIN`);
      await admin(`CREATE ROLE ${app} LOGIN`);
      await admin(`CREATE DATABASE ${database} OWNER ${owner}`);
      sink = await new SmtpSink().start();
      server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
      baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const config = loadConfig({
        NODE_ENV: 'test',
        DATABASE_URL: urlAs(app),
        MIGRATION_DATABASE_URL: urlAs(owner),
        PUBLIC_URL: baseUrl,
        REDIS_URL,
        QUEUE_PREFIX: `cst-lp-${suffix}`,
        SMTP_URL: sink.url,
        HOLD_WINDOW_SECONDS: '0',
        SWEEP_INTERVAL_MS: '0',
      });
      // The deploy step: `countersign migrate` with both URLs, on a database nothing has touched yet.
      const beforeStart = await openDatabaseFor(config, { migrate: false });
      try {
        await runCli(['migrate'], { config, db: beforeStart.db, now: () => new Date() }, (line) => migrateOutput.push(line));
      } finally {
        await beforeStart.close();
      }
      runtime = await createRuntime(config);
      server.on('request', createApp(runtime.ctx));
      workers = startWorkers(runtime.ctx);
    });
    afterAll(async () => {
      await workers?.close(5000);
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
      server?.closeAllConnections();
      await runtime?.close();
      await sink?.stop();
      const redis = runtime?.ctx.queues.redis.duplicate();
      if (redis) {
        await dropQueuePrefix(redis, `cst-lp-${suffix}`);
        redis.disconnect();
      }
      await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await admin(`DROP ROLE IF EXISTS ${app}`);
      await admin(`DROP ROLE IF EXISTS ${owner}`);
    });

    const cli = async (...args: string[]) => {
      const lines: string[] = [];
      const code = await runCli(args, runtime.ctx, (line) => lines.push(line));
      return { code, out: lines.join('\n') };
    };

    it('runs a whole campaign as the app role, which owns nothing and is no superuser', async () => {
      const who = await sql<{ role: string; superuser: boolean; owner: string }>`
      SELECT current_user AS role, r.rolsuper AS superuser, pg_get_userbyid(c.relowner) AS owner
      FROM pg_roles r, pg_class c WHERE r.rolname = current_user AND c.relname = 'audit_events'`.execute(runtime.ctx.db);
      expect(who.rows).toEqual([{ role: app, superuser: false, owner }]);

      for (const [email, roles] of [
        ['author@staff.example.com', 'author'],
        ['alice@staff.example.com', 'approver'],
        ['bob@staff.example.com', 'approver'],
      ]) {
        expect((await cli('user', 'add', '--email', email!, '--name', email!.split('@')[0]!, '--roles', roles!)).code).toBe(0);
      }
      const tokens = Object.fromEntries(
        await Promise.all(
          ['author', 'alice', 'bob'].map(async (key) => [
            key,
            (await issueApiToken(runtime.ctx.db, (await userByEmail(runtime.ctx, `${key}@staff.example.com`))!.id, 'test')).token,
          ]),
        ),
      );
      const api = async (key: string, method: string, path: string, body?: unknown) => {
        const response = await fetch(`${baseUrl}/api/v1${path}`, {
          method,
          headers: { authorization: `Bearer ${tokens[key]}`, ...(body ? { 'content-type': 'application/json' } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        return { status: response.status, body: await response.json() };
      };
      const created = await api('author', 'POST', '/campaigns', {
        subject: 'Least privilege',
        body: 'Hello {{firstName}}',
        audience: { recipients: [{ email: 'ann@corp.example.com', name: 'Ann' }] },
      });
      expect(created.status).toBe(201);
      const submitted = await api('author', 'POST', `/campaigns/${created.body.id}/submit`);
      for (const key of ['alice', 'bob'])
        expect((await api(key, 'POST', `/campaigns/${created.body.id}/approve`, { contentHash: submitted.body.contentHash })).status).toBe(
          200,
        );
      await sink.waitUntil(() => sink.withSubject('Least privilege').length === 1, 30_000, 'the campaign');
      const deadline = Date.now() + 30_000;
      while ((await api('author', 'GET', `/campaigns/${created.body.id}`)).body.status !== 'sent' && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await api('author', 'GET', `/campaigns/${created.body.id}`)).body.status).toBe('sent');
      expect(await cli('audit', 'verify')).toMatchObject({ code: 0, out: expect.stringMatching(/^audit chain intact: \d+ events/) });
    });

    it('refuses the app role any change to audit events, even with session_replication_role, and any switch of their triggers', async () => {
      const db = runtime.ctx.db;
      expect((await cli('user', 'add', '--email', 'dana@staff.example.com', '--name', 'Dana', '--roles', 'admin')).code).toBe(0);
      const before = await db.selectFrom('audit_events').selectAll().orderBy('id').execute();
      expect(before.length).toBeGreaterThan(0);
      await expect(db.updateTable('audit_events').set({ actor: 'someone else' }).execute()).rejects.toThrow(
        /permission denied for table audit_events/,
      );
      await expect(db.deleteFrom('audit_events').execute()).rejects.toThrow(/permission denied for table audit_events/);
      await expect(sql`TRUNCATE audit_events`.execute(db)).rejects.toThrow(/permission denied for table audit_events/);
      // What a superuser bypasses the append-only triggers with is refused before the UPDATE is tried.
      await expect(
        db.transaction().execute(async (trx) => {
          await sql`SET LOCAL session_replication_role = replica`.execute(trx);
          await trx.updateTable('audit_events').set({ actor: 'someone else' }).execute();
        }),
      ).rejects.toThrow(/permission denied to set parameter "session_replication_role"/);
      await expect(sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`.execute(db)).rejects.toThrow(
        /must be owner of table audit_events/,
      );
      // Granting itself UPDATE grants nothing: PostgreSQL only warns, and the UPDATE is still refused.
      await sql`GRANT UPDATE ON audit_events TO ${sql.id(app)}`.execute(db);
      await expect(db.updateTable('audit_events').set({ actor: 'someone else' }).execute()).rejects.toThrow(
        /permission denied for table audit_events/,
      );
      await expect(sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('999-forged', 'now')`.execute(db)).rejects.toThrow(
        /permission denied for table kysely_migration/,
      );
      expect(await db.selectFrom('audit_events').selectAll().orderBy('id').execute()).toEqual(before);
    });

    it('starts a process with the app role alone once the owner has migrated: it reads that nothing is pending', async () => {
      expect(migrateOutput).toEqual([expect.stringMatching(/^applied: 001-initial, .*009-sign-in-requests/)]);
      const appOnly = await openDatabase(databaseTarget(loadConfig({ DATABASE_URL: urlAs(app) })));
      try {
        const lines: string[] = [];
        expect(
          await runCli(['migrate'], { config: runtime.ctx.config, db: appOnly.db, now: () => new Date() }, (line) => lines.push(line)),
        ).toBe(0);
        expect(lines).toEqual(['already up to date']);
      } finally {
        await appOnly.close();
      }
    });
  },
);
