import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { expect, inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import type { DatabaseTarget } from '../../src/db/connect.js';
import type { Role } from '../../src/domain/inputs.js';
import { createApp } from '../../src/http/app.js';
import type { Logger } from '../../src/logger.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { createUser, issueApiToken } from '../../src/services/users.js';
import { deliverNotification } from '../../src/services/notifications.js';
import { notifyJob } from '../../src/queue/jobs.js';
import { startWorkers, type Workers } from '../../workers/index.js';
import { ResponseValidator } from './openapi-validator.js';
import { adminQuery, databaseUrl } from './database-template.js';
import { dropQueuePrefix } from './queue-prefix.js';
import { SmtpSink, type ReceivedMessage, type SinkOptions } from './smtp-sink.js';
import { WebClient } from './web-client.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * `n` recipients `tag0000@domain`, `tag0001@domain`…, named "tag 0", "tag 1"…: numbered so that
 * address order (the snapshot's) is the order they were made in.
 */
export function people(n: number, tag: string, domain = 'corp.example.com'): { email: string; name: string }[] {
  return Array.from({ length: n }, (_, i) => ({ email: `${tag}${String(i).padStart(4, '0')}@${domain}`, name: `${tag} ${i}` }));
}

/** The first link in a message's text part to `/<path>/<token>`, as a person would click it. */
export function linkIn(message: ReceivedMessage, path: 'approve' | 'sign-in'): string {
  const match = new RegExp(`(https?://\\S+/${path}/[A-Za-z0-9_-]+)`).exec(message.parsed.text ?? '');
  if (!match) throw new Error(`no /${path}/ link in the message "${message.parsed.subject}"`);
  return match[1]!;
}

export interface CampaignDraft {
  subject: string;
  body?: string;
  recipients?: { email: string; name: string; fields?: Record<string, string> }[];
  listIds?: string[];
  sendAt?: string;
  firstWave?: { share?: number; count?: number; seedListIds?: string[] };
}

export const testDb = (): 'pglite' | 'postgres' => (process.env.TEST_DB === 'postgres' ? 'postgres' : 'pglite');

/**
 * A new DATA_DIR holding a copy of the PGlite project's migrated database, as a deployment's folder
 * is after its first start; undefined outside that project. Remove it when done.
 */
export function migratedDataDir(): string | undefined {
  const template = inject('pgliteTemplate');
  if (!template) return undefined;
  // Beside the template, so the run's teardown removes a copy a failed file left behind.
  const dataDir = mkdtempSync(path.join(path.dirname(template), 'copy-'));
  cpSync(template, path.join(dataDir, 'pglite'), { recursive: true });
  return dataDir;
}

/**
 * A database of its own for one test file, copied from the project's migrated template (see
 * database-template.ts): a PostgreSQL database, or a PGlite data folder. PGlite in memory outside vitest.
 */
export async function isolatedDatabase(options: { icuLocale?: string } = {}): Promise<{ target: DatabaseTarget; drop(): Promise<void> }> {
  if (testDb() === 'pglite') {
    // As a deployment on the defaults runs it.
    const sharedBuffers = loadConfig({}).PGLITE_SHARED_BUFFERS;
    const dataDir = process.env.VITEST ? migratedDataDir() : undefined;
    if (!dataDir) return { target: { kind: 'pglite', dataDir: 'memory', sharedBuffers }, drop: async () => {} };
    return { target: { kind: 'pglite', dataDir, sharedBuffers }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `cs_test_${randomBytes(6).toString('hex')}`;
  const template = process.env.VITEST ? inject('postgresTemplate') : undefined;
  // Another collation needs template0; the runtime then migrates the new database on start.
  await adminQuery(
    options.icuLocale
      ? `CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE '${options.icuLocale}'`
      : `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`,
  );
  return { target: { kind: 'postgres', url: databaseUrl(name) }, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function dropTestQueues(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL);
  await dropQueuePrefix(redis, prefix);
  redis.disconnect();
}

export interface HarnessOptions {
  env?: Record<string, string>;
  sink?: SinkOptions;
  workers?: boolean;
  /** Check every `api` answer against the published OpenAPI document (see `ResponseValidator`); on unless false. */
  validateResponses?: boolean;
  /** Where the app and workers log; nowhere unless given. */
  logger?: Logger;
  /** PostgreSQL only: a database whose default collation is this ICU locale's (e.g. `en-US`), not the server's. */
  icuLocale?: string;
}

export interface TestUser {
  id: string;
  email: string;
  token: string;
}

export class Harness {
  users: Record<string, TestUser> = {};
  workers?: Workers;
  responses?: ResponseValidator;

  private constructor(
    readonly runtime: Runtime,
    readonly config: Config,
    readonly sink: SmtpSink,
    readonly server: Server,
    readonly baseUrl: string,
    readonly databaseTarget: DatabaseTarget,
    private readonly dropDatabase: () => Promise<void>,
    private readonly redisEnv: Record<string, string>,
    private readonly logger?: Logger,
  ) {}

  static async start(options: HarnessOptions = {}): Promise<Harness> {
    const sink = await new SmtpSink(options.sink).start();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const database = await isolatedDatabase({ icuLocale: options.icuLocale });
    const env: Record<string, string> = {
      NODE_ENV: 'test',
      PUBLIC_URL: baseUrl,
      REDIS_URL,
      QUEUE_PREFIX: `cst-${randomBytes(5).toString('hex')}`,
      SMTP_URL: sink.url,
      SEND_RATE_PER_SECOND: '100000',
      HOLD_WINDOW_SECONDS: '0',
      SWEEP_INTERVAL_MS: '0',
      DELIVERY_BATCH_SIZE: '50',
      ...options.env,
    };
    const config = loadConfig(env);
    const runtime = await createRuntime(config, { database: database.target });
    server.on('request', createApp(runtime.ctx, options.logger));
    // Where Redis is, as given (Sentinel and Cluster lists are parsed in the config), for processEnv;
    // an empty value stays, so that it unsets the variable the test runner's own environment has.
    const redisEnv = Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith('REDIS_')));
    const harness = new Harness(runtime, config, sink, server, baseUrl, database.target, database.drop, redisEnv, options.logger);
    if (options.validateResponses ?? true) harness.responses = new ResponseValidator();
    if (options.workers ?? true) harness.startWorkers();
    return harness;
  }

  /**
   * The environment a separate API or worker process needs to join this test's deployment.
   * `name` becomes its database sessions' application_name, so a test can tell the processes apart.
   */
  processEnv(name = 'countersign'): Record<string, string> {
    if (this.databaseTarget.kind !== 'postgres') throw new Error('separate processes need PostgreSQL');
    const keys = [
      'QUEUE_PREFIX',
      'SMTP_URL',
      'SEND_RATE_PER_SECOND',
      'SMTP_MAX_CONNECTIONS',
      'WORKER_CONCURRENCY',
      'DELIVERY_BATCH_SIZE',
      'DELIVERY_CLAIM_SIZE',
      'SWEEP_INTERVAL_MS',
      'STALE_SENDING_SECONDS',
      'WORKER_LOCK_MS',
      'PUBLIC_URL',
      'HOLD_WINDOW_SECONDS',
    ] as const;
    const url = new URL(this.databaseTarget.url);
    url.searchParams.set('application_name', name);
    return {
      NODE_ENV: 'test',
      DATABASE_URL: url.toString(),
      ...this.redisEnv,
      ...Object.fromEntries(keys.map((k) => [k, String(this.config[k])])),
    };
  }

  get ctx() {
    return this.runtime.ctx;
  }

  get db() {
    return this.runtime.ctx.db;
  }

  startWorkers(): Workers {
    this.workers = startWorkers(this.ctx, this.logger);
    return this.workers;
  }

  async addUser(key: string, roles: Role[]): Promise<TestUser> {
    const user = await createUser(this.ctx, {
      email: `${key}@staff.example.com`,
      name: `${key[0]!.toUpperCase()}${key.slice(1)} Tester`,
      roles,
    });
    const { token } = await issueApiToken(this.db, user.id, 'test');
    this.users[key] = { id: user.id, email: user.email, token };
    return this.users[key]!;
  }

  /** The cast most tests need: `author`, and two approvers, `alice` and `bob`, for a quorum of two. */
  async addAuthorAndApprovers(): Promise<void> {
    await this.addUser('author', ['author']);
    await this.addUser('alice', ['approver']);
    await this.addUser('bob', ['approver']);
  }

  api(user: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    return this.apiAt(this.baseUrl, user, method, path, body, headers);
  }

  /** The same call against another API server of this deployment, such as a separate `countersign api` process. */
  async apiAt(baseUrl: string, user: string | null, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
    const init: RequestInit = { method, headers: { ...headers } };
    if (user) (init.headers as Record<string, string>).authorization = `Bearer ${this.users[user]!.token}`;
    if (body !== undefined) {
      if (typeof body === 'string') init.body = body;
      else {
        init.body = JSON.stringify(body);
        (init.headers as Record<string, string>)['content-type'] = 'application/json';
      }
    }
    const response = await fetch(`${baseUrl}/api/v1${path}`, init);
    const text = await response.text();
    const json = response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : undefined;
    this.responses?.check(method, path, response.status, response.headers.get('content-type'), json);
    return { status: response.status, body: json, text };
  }

  /** A draft through the API, as `as` (the author by default); returns its id. */
  async createCampaign(draft: CampaignDraft, as = 'author'): Promise<string> {
    const { subject, body = 'Hello {{firstName}}', recipients = [], listIds = [], sendAt, firstWave } = draft;
    const created = await this.api(as, 'POST', '/campaigns', {
      subject,
      body,
      audience: { listIds, recipients },
      ...(sendAt ? { sendAt } : {}),
      ...(firstWave ? { firstWave } : {}),
    });
    if (created.status !== 201) throw new Error(`creating "${subject}" answered ${created.status}: ${created.text}`);
    return created.body.id;
  }

  /** Submits a campaign; returns the content hash approvers are asked to approve. */
  async submitCampaign(id: string, as = 'author'): Promise<string> {
    const submitted = await this.api(as, 'POST', `/campaigns/${id}/submit`);
    if (submitted.status !== 200) throw new Error(`submitting ${id} answered ${submitted.status}: ${submitted.text}`);
    return submitted.body.contentHash;
  }

  /** Each approver approves through the API; returns the status the last approval left. */
  async approveCampaign(id: string, contentHash: string, approvers: string[] = ['alice', 'bob']): Promise<string> {
    let status = '';
    for (const approver of approvers) {
      const approved = await this.api(approver, 'POST', `/campaigns/${id}/approve`, { contentHash });
      if (approved.status !== 200) throw new Error(`${approver} approving ${id} answered ${approved.status}: ${approved.text}`);
      status = approved.body.status;
    }
    return status;
  }

  /** The path most tests start from: created, submitted and approved by `alice` and `bob`. */
  async approvedCampaign(draft: CampaignDraft & { body?: string }): Promise<{ id: string; contentHash: string; status: string }> {
    const id = await this.createCampaign(draft);
    const contentHash = await this.submitCampaign(id);
    return { id, contentHash, status: await this.approveCampaign(id, contentHash) };
  }

  /** Each of these people has exactly one message at the sink. */
  expectEachReceivedOnce(recipients: readonly { email: string }[]): void {
    for (const person of recipients) expect(this.sink.to(person.email), person.email).toHaveLength(1);
  }

  /** A campaign to `count` new people, approved and sent through whatever Redis and workers this deployment has: each gets it once. */
  async sendsOnceToEach(subject: string, tag: string, count = 10): Promise<void> {
    const recipients = people(count, tag);
    const { id } = await this.approvedCampaign({ subject, recipients });
    await this.waitForStatus(id, 'sent');
    this.expectEachReceivedOnce(recipients);
  }

  /**
   * Halts a campaign through the API, then waits until none of it is in flight. Answers the halt's
   * report, the campaign as the ledger then has it, and how many messages `arrived()` counted after
   * the halt returned (at most its in-flight count, by the promise of a halt).
   */
  async haltAndSettle(as: string, id: string, reason: string, arrived: () => number) {
    const halted = await this.api(as, 'POST', `/campaigns/${id}/halt`, { reason });
    const arrivedAtReturn = arrived();
    expect(halted.status).toBe(200);
    expect(halted.body).toMatchObject({ status: 'halted' });
    const report = halted.body as { inFlight: number; stopped: number };
    const ledger = await this.until(
      () => this.api('author', 'GET', `/campaigns/${id}`),
      (r) => r.body.deliveries.sending === 0,
      'in-flight deliveries to settle',
    );
    return { ...report, campaign: ledger.body, arrivedAfter: arrived() - arrivedAtReturn };
  }

  async until<T>(read: () => Promise<T>, accept: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await read();
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  #statusOf(id: string): Promise<string> {
    return this.db
      .selectFrom('campaigns')
      .select('status')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
      .then((r) => r.status);
  }

  campaignStatus(id: string): Promise<string> {
    return this.#statusOf(id);
  }

  /** Polls the system of record: what a person refreshing the campaign page would see. */
  waitForStatus(id: string, status: string, timeoutMs?: number) {
    return this.until(
      () => this.#statusOf(id),
      (s) => s === status,
      `campaign ${id} to be ${status}`,
      timeoutMs,
    );
  }

  /** With workers off: hands every waiting notification to SMTP, as the notify worker would. */
  async flushNotifications(): Promise<void> {
    for (const job of await this.ctx.queues.notify.getJobs(['waiting', 'delayed', 'prioritized'])) {
      await deliverNotification(this.ctx, notifyJob.parse(job.data));
      await job.remove();
    }
  }

  /** Signs a user in the way a person does: asks for a link, opens the email that arrived, presses the button. */
  async signIn(key: string): Promise<WebClient> {
    const client = new WebClient(this.baseUrl);
    const email = this.users[key]!.email;
    const before = this.sink.to(email).filter((m) => m.parsed.subject === 'Your Countersign sign-in link').length;
    const asked = await client.post('/sign-in', { email });
    if (asked.status !== 200) throw new Error(`sign-in request answered ${asked.status}`);
    if (!this.workers) await this.flushNotifications();
    await this.sink.waitUntil(
      () => this.sink.to(email).filter((m) => m.parsed.subject === 'Your Countersign sign-in link').length > before,
      30_000,
      `sign-in email to ${email}`,
    );
    const message = this.sink
      .to(email)
      .filter((m) => m.parsed.subject === 'Your Countersign sign-in link')
      .at(-1)!;
    const link = /(https?:\/\/\S+\/sign-in\/[A-Za-z0-9_-]+)/.exec(message.parsed.text ?? '')![1]!;
    const done = await client.post(link, {});
    if (done.status !== 303) throw new Error(`sign-in answered ${done.status}: ${await done.text()}`);
    return client;
  }

  /** The approval links that actually arrived by mail, per approver address. */
  approvalLinks(subject: string): Map<string, string> {
    const links = new Map<string, string>();
    for (const message of this.sink.withSubject(`Approval needed: ${subject}`)) {
      const match = /(https?:\/\/\S+\/approve\/[A-Za-z0-9_-]+)/.exec(message.parsed.text ?? '');
      if (match) links.set(message.envelopeTo[0]!, match[1]!);
    }
    return links;
  }

  async stop(): Promise<void> {
    await this.workers?.close(5000);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await this.runtime.close();
    await this.sink.stop();
    await this.dropDatabase();
    await dropTestQueues(this.config.QUEUE_PREFIX);
  }
}
