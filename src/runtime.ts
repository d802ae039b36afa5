import path from 'node:path';
import type { Config } from './config.js';
import { openDatabase, type Database, type DatabaseTarget } from './db/connect.js';
import { imapMailbox } from './mail/imap-mailbox.js';
import type { MailboxBackend } from './mail/mailbox.js';
import { createMailer } from './mail/transport.js';
import { createRedis, type RedisClient, type RedisTarget } from './queue/connection.js';
import { createQueues } from './queue/queues.js';
import { loadPolicy } from './policy-file.js';
import type { AppContext } from './services/context.js';

export interface Runtime {
  ctx: AppContext;
  /** The policy file's text as read, for its record in the audit chain. */
  policySource: string;
  database: Database;
  close(): Promise<void>;
}

// The composition root is the one place outside src/db that knows how a database is opened.
export { DataFolderLockedError } from './db/connect.js';
export { PolicyFileError } from './policy-file.js';

export function databaseTarget(config: Config): DatabaseTarget {
  return config.DATABASE_URL
    ? { kind: 'postgres', url: config.DATABASE_URL, ...(config.MIGRATION_DATABASE_URL ? { ownerUrl: config.MIGRATION_DATABASE_URL } : {}) }
    : { kind: 'pglite', dataDir: config.DATA_DIR, sharedBuffers: config.PGLITE_SHARED_BUFFERS };
}

export function mailboxBackend(config: Config): MailboxBackend | null {
  if (!config.RETRACT_IMAP_URL) return null;
  // The config schema requires the master login and domains with the URL.
  return imapMailbox({
    url: config.RETRACT_IMAP_URL,
    masterUser: config.RETRACT_IMAP_MASTER_USER!,
    masterPassword: config.RETRACT_IMAP_MASTER_PASSWORD!,
    domains: config.RETRACT_DOMAINS ?? [],
  });
}

/** The database alone, for the CLI: no Redis, no mail. */
export function openDatabaseFor(config: Config, options: { migrate?: boolean } = {}): Promise<Database> {
  return openDatabase(databaseTarget(config), options);
}

/** For the start log: where Redis is, without credentials. */
export function describeRedis(target: RedisTarget): string {
  const nodes = (list: { host: string; port: number }[]) => list.map((n) => `${n.host}:${n.port}`).join(', ');
  switch (target.kind) {
    case 'url': {
      const url = new URL(target.url);
      return `${url.protocol}//${url.host}`;
    }
    case 'socket':
      return `private redis-server on ${target.path}`;
    case 'sentinel':
      return `master group ${target.name} through sentinels ${nodes(target.sentinels)}`;
    case 'cluster':
      return `Cluster seeded from ${nodes(target.nodes)}`;
  }
}

/** Opens every connection a process needs, once. `redis` may be a private server's socket. */
export async function createRuntime(config: Config, options: { redis?: RedisTarget; database?: DatabaseTarget } = {}): Promise<Runtime> {
  // Before anything opens: a wrong rule stops the start with nothing to clean up.
  const policy = loadPolicy(config.POLICY_FILE);
  const database = await openDatabase(options.database ?? databaseTarget(config));
  let redis: RedisClient | undefined;
  try {
    redis = createRedis(options.redis ?? config.REDIS);
    await redis.ping();
  } catch (error) {
    redis?.disconnect();
    await database.close();
    throw error;
  }
  const queues = createQueues(redis, config.QUEUE_PREFIX);
  const outboxDir = config.OUTBOX_DIR ?? path.join(config.DATA_DIR, 'outbox');
  const mailer = createMailer({ smtpUrl: config.SMTP_URL, maxConnections: config.SMTP_MAX_CONNECTIONS, outboxDir });
  // Staff email on a connection of its own: a correction's approval requests go out even while a
  // slow relay holds every connection of a campaign's send.
  const notifier = createMailer({ smtpUrl: config.SMTP_URL, maxConnections: 1, outboxDir });
  const ctx: AppContext = {
    config,
    db: database.db,
    queues,
    mailer,
    notifier,
    policy: policy.policy,
    mailbox: mailboxBackend(config),
    now: () => new Date(),
  };
  return {
    ctx,
    policySource: policy.source,
    database,
    close: async () => {
      await queues.close();
      mailer.close();
      notifier.close();
      redis.disconnect();
      await database.close();
    },
  };
}
