import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { createApp } from '../src/http/app.js';
import { createLogger } from '../src/logger.js';
import { createRuntime, type Runtime } from '../src/runtime.js';
import { approveByApi } from '../src/services/approvals.js';
import { createCampaign, submitCampaign } from '../src/services/campaigns.js';
import type { Actor, AppContext } from '../src/services/context.js';
import { createList, importMembers } from '../src/services/lists.js';
import { createUser, issueApiToken } from '../src/services/users.js';
import { dropQueuePrefix } from '../test/support/queue-prefix.js';
import { startWorkers, type Workers } from '../workers/index.js';
import { freshDatabase, type DatabaseKind } from './database.js';
import { CONTENT, recipient } from './message.js';
import { monotonicMs } from './sink.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface SentCampaign {
  id: string;
  contentHash: string;
  /** Its send time on the monotonic clock the sink also stamps arrivals with. */
  sendAt: number;
}

/** One Countersign process as production runs it (API and workers), on a fresh database and queue prefix. */
export class Deployment {
  private constructor(
    readonly runtime: Runtime,
    readonly workers: Workers | undefined,
    readonly server: Server,
    readonly baseUrl: string,
    /** The environment this deployment's configuration came from, for processes that join it. */
    readonly settings: Record<string, string>,
    readonly redis: Redis,
    readonly people: { author: Actor; authorToken: string; approvers: Actor[]; approverTokens: string[] },
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  /**
   * `env`: settings on top of the benchmark's own, e.g. SMTP_MAX_CONNECTIONS. Without `workers`, this
   * process only sets up and approves: processes started with `settings` (the split shape) send.
   */
  static async start(
    kind: DatabaseKind,
    smtpUrl: string,
    env: Record<string, string> = {},
    options: { workers?: boolean } = {},
  ): Promise<Deployment> {
    const database = await freshDatabase(kind);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const settings: Record<string, string> = {
      NODE_ENV: 'production',
      PUBLIC_URL: baseUrl,
      REDIS_URL,
      QUEUE_PREFIX: `bench-${randomBytes(5).toString('hex')}`,
      SMTP_URL: smtpUrl,
      // The relay is the limit under test, not the configured budget.
      SEND_RATE_PER_SECOND: '1000000',
      HOLD_WINDOW_SECONDS: '0',
      SWEEP_INTERVAL_MS: '0',
      START_PRIVATE_REDIS: 'false',
      ...(process.env.PGLITE_SHARED_BUFFERS ? { PGLITE_SHARED_BUFFERS: process.env.PGLITE_SHARED_BUFFERS } : {}),
      ...env,
      ...database.env,
    };
    const config = loadConfig(settings);
    const runtime = await createRuntime(config);
    server.on('request', createApp(runtime.ctx));
    const db = runtime.ctx.db;
    const author = await createUser(runtime.ctx, { email: 'author@staff.example.com', name: 'Bench Author', roles: ['author'] });
    const approvers = [
      await createUser(runtime.ctx, { email: 'approver1@staff.example.com', name: 'First Approver', roles: ['approver'] }),
      await createUser(runtime.ctx, { email: 'approver2@staff.example.com', name: 'Second Approver', roles: ['approver'] }),
    ];
    const { token } = await issueApiToken(db, author.id, 'bench');
    const approverTokens = await Promise.all(approvers.map(async (approver) => (await issueApiToken(db, approver.id, 'bench')).token));
    const workers = options.workers === false ? undefined : startWorkers(runtime.ctx, createLogger(process.stderr, { level: 'warn' }));
    return new Deployment(
      runtime,
      workers,
      server,
      baseUrl,
      settings,
      new Redis(REDIS_URL),
      { author, authorToken: token, approvers, approverTokens },
      database.drop,
    );
  }

  get ctx(): AppContext {
    return this.runtime.ctx;
  }

  /** A list of `size` members, imported through the same service as an upload. */
  async importList(name: string, size: number): Promise<string> {
    const list = await createList(this.ctx, this.people.author, { name });
    await importMembers(this.ctx, this.people.author, list.id, { format: 'json', chunks: jsonMembers(size) });
    return list.id;
  }

  /** Draft, submit, two approvals: the campaign is then due at once (no hold window). */
  async approveCampaign(listId: string): Promise<SentCampaign> {
    const { author, approvers } = this.people;
    const draft = await createCampaign(this.ctx, author, {
      subject: CONTENT.subject,
      body: CONTENT.bodyMarkdown,
      audience: { listIds: [listId] },
    });
    const submitted = await submitCampaign(this.ctx, author, draft.id);
    let approved = submitted;
    for (const approver of approvers) approved = await approveByApi(this.ctx, approver, draft.id, { contentHash: submitted.content_hash });
    const sendAt = monotonicMs() - (Date.now() - approved.scheduled_for!.getTime());
    return { id: draft.id, contentHash: submitted.content_hash!, sendAt };
  }

  async status(campaignId: string): Promise<string> {
    const row = await this.ctx.db.selectFrom('campaigns').select('status').where('id', '=', campaignId).executeTakeFirstOrThrow();
    return row.status;
  }

  async until(check: () => Promise<boolean>, what: string, timeoutMs: number, intervalMs = 50): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }

  /** Nothing left to run: every window ran (or found nothing to do), and a halt's clean-up is done. */
  async queuesIdle(): Promise<boolean> {
    for (const queue of [this.ctx.queues.deliver, this.ctx.queues.dispatch]) {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      if (Object.values(counts).some((n) => n > 0)) return false;
    }
    return true;
  }

  #released = false;

  /** Closes this process's hold on the database (PGlite allows one process) and keeps its data, for a process started with `settings`. */
  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    await this.workers?.close(5000);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await this.runtime.close();
  }

  async stop(): Promise<void> {
    const prefix = this.ctx.config.QUEUE_PREFIX;
    await this.release();
    await this.dropDatabase();
    await dropQueuePrefix(this.redis, prefix);
    this.redis.disconnect();
  }
}

/** A JSON array of `size` recipients, generated a thousand entries at a time. */
async function* jsonMembers(size: number): AsyncGenerator<string> {
  yield '[';
  for (let start = 0; start < size; start += 1000) {
    const entries = Array.from({ length: Math.min(1000, size - start) }, (_, k) => JSON.stringify(recipient(start + k)));
    yield `${start === 0 ? '' : ','}${entries.join(',')}`;
  }
  yield ']';
}
