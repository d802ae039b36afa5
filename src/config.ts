import { isIP } from 'node:net';
import { z } from 'zod';
import { isTimeZone } from './domain/time-zone.js';
import type { RedisTarget } from './queue/connection.js';

const durationMs = z.coerce.number().int().min(0);

/** A comma-separated list of mail domains, lower-cased; empty means none. */
const domainList = z
  .string()
  .transform((value) =>
    value
      .split(',')
      .map((d) => d.trim().toLowerCase())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().regex(/^[a-z0-9-]+(\.[a-z0-9-]+)+$/, 'a domain such as example.com')));

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];

/** An address, a CIDR range (`10.0.0.0/8`, `fd00::/8`) or one of express's names for a range. */
function isProxyRange(item: string): boolean {
  if (PROXY_NAMES.includes(item)) return true;
  const [address, prefix, ...rest] = item.split('/');
  const family = isIP(address ?? '');
  if (!family || rest.length) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}

/**
 * express's "trust proxy" as documented: a hop count (`1`: the one proxy in front), `true` (every
 * peer is a proxy), `false`, or a comma-separated list of addresses, CIDR ranges and range names.
 */
const trustProxy = z
  .string()
  .trim()
  .transform((value, context): number | boolean | string[] => {
    if (/^\d+$/.test(value)) return Number(value);
    if (value === 'true' || value === 'false') return value === 'true';
    const items = value
      .split(',')
      .map((item) => item.trim())
      .filter(Boolean);
    const wrong = items.filter((item) => !isProxyRange(item));
    if (items.length === 0 || wrong.length) {
      context.addIssue({
        code: 'custom',
        message: `a hop count, true, false, or a list of addresses, CIDR ranges, loopback, linklocal, uniquelocal (not ${wrong.join(', ') || 'empty'})`,
      });
    }
    return items;
  });

/** `host:port,host:port` (an IPv6 address in brackets), for the sentinels or the Cluster's seed nodes. */
const hostPortList = z.string().transform((value, context): { host: string; port: number }[] => {
  const items = value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
  const wrong = items.filter((item) => !/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(item));
  if (items.length === 0 || wrong.length) {
    context.addIssue({
      code: 'custom',
      message: `host:port items, comma-separated, e.g. 10.0.0.1:26379,10.0.0.2:26379 (not ${wrong.join(', ') || 'empty'})`,
    });
  }
  return items.map((item) => {
    const colon = item.lastIndexOf(':');
    return { host: item.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), port: Number(item.slice(colon + 1)) };
  });
});

/** A Redis Cluster hash tag: `{…}` with something inside, so every key with the prefix lands in one slot. */
const HASH_TAG = /\{[A-Za-z0-9_-]+\}/;

/** A secret of at least 32 characters, e.g. `openssl rand -hex 32`. */
const secretKey = z.string().min(32, 'at least 32 characters, e.g. the output of `openssl rand -hex 32`');

const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

/** Every setting Countersign reads from the environment. `.env.example` documents each one. */
export const configSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: z.url().default('http://localhost:3000'),
    DATA_DIR: z.string().min(1).default('./data'),
    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    MIGRATION_DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
      .optional(),
    PGLITE_SHARED_BUFFERS: z
      .string()
      .regex(/^[1-9]\d*(kB|MB|GB)$/, 'a size such as 32MB (kB, MB or GB)')
      .default('40MB'),
    /** Unset, and no sentinels or Cluster: redis://127.0.0.1:6379 (see `redisTarget`). */
    REDIS_URL: z
      .string()
      .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
      .optional(),
    REDIS_SENTINELS: hostPortList.optional(),
    REDIS_SENTINEL_NAME: z.string().min(1).optional(),
    REDIS_SENTINEL_PASSWORD: z.string().min(1).optional(),
    REDIS_CLUSTER_NODES: hostPortList.optional(),
    REDIS_USERNAME: z.string().min(1).optional(),
    REDIS_PASSWORD: z.string().min(1).optional(),
    REDIS_TLS: z.stringbool().default(false),
    REDIS_TLS_CA: z.string().min(1).optional(),
    QUEUE_PREFIX: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]*(\{[A-Za-z0-9_-]+\})?[A-Za-z0-9_-]*$/,
        'letters, digits, - and _, with at most one hash tag in braces such as {countersign}',
      )
      .min(1)
      .default('countersign'),
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, 'must be an smtp:// or smtps:// URL')
      .optional(),
    SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100).default(5),
    OUTBOX_DIR: z.string().min(1).optional(),
    DEFAULT_FROM: z.email().default('internal-comms@example.com'),
    DEFAULT_FROM_NAME: z.string().default('Internal Communications'),
    REQUIRED_APPROVALS: z.coerce.number().int().min(1).max(20).default(2),
    CORRECTION_REQUIRED_APPROVALS: z.coerce.number().int().min(1).max(20).optional(),
    HOLD_WINDOW_SECONDS: z.coerce.number().int().min(0).default(600),
    AUTO_HALT_FAILURE_RATE: z.coerce.number().gt(0).max(1).default(0.2),
    AUTO_HALT_MIN_ATTEMPTS: z.coerce.number().int().min(1).default(50),
    APPROVAL_LINK_TTL_HOURS: z.coerce.number().positive().default(72),
    SEND_RATE_PER_SECOND: z.coerce.number().int().min(1).default(50),
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(200).default(4),
    DELIVERY_BATCH_SIZE: z.coerce.number().int().min(1).max(5000).default(200),
    /** Unset: derived from the pool, see `claimSizeFor`. */
    DELIVERY_CLAIM_SIZE: z.coerce.number().int().min(1).max(500).optional(),
    DELIVERY_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(6),
    STALE_SENDING_SECONDS: z.coerce.number().int().min(10).default(120),
    SWEEP_INTERVAL_MS: durationMs.default(30_000),
    WORKER_LOCK_MS: z.coerce.number().int().min(1000).default(10_000),
    MAX_LIST_SIZE: z.coerce.number().int().min(1).default(200_000),
    IMPORT_BYTES_PER_ROW: z.coerce.number().int().min(64).max(65_536).default(256),
    START_PRIVATE_REDIS: z.stringbool().default(true),
    SSO_EMAIL_HEADER: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'must be a header name such as X-Forwarded-Email')
      .optional(),
    TRUST_PROXY: trustProxy.default(['loopback']),
    METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters (openssl rand -hex 32)').optional(),
    METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
    ORGANISATION_DOMAINS: domainList.optional(),
    ALLOWED_USER_DOMAINS: domainList.optional(),
    ROLE_GRANTS_NEED_SECOND_ADMIN: z.stringbool().default(false),
    ORG_TIME_ZONE: z.string().refine(isTimeZone, 'an IANA time zone such as Europe/Paris').default('UTC'),
    POLICY_FILE: z.string().min(1).optional(),
    FIRST_WAVE_HOLD_MINUTES: z.coerce.number().min(0).default(10),
    APPROVAL_REMINDER_HOURS: z.coerce.number().positive().default(24),
    APPROVAL_ESCALATION_HOURS: z.coerce.number().positive().default(2),
    AUDIT_KEY: secretKey.optional(),
    AUDIT_CHECKPOINT_DIR: z.string().min(1).optional(),
    AUDIT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(1000).default(3_600_000),
    AUDIT_CHECKPOINT_EMAIL: z.email().optional(),
    RETRACT_IMAP_URL: z
      .string()
      .regex(
        /^imaps?:\/\/[^/@]+(:\d+)?\/?$/,
        'an imap:// or imaps:// URL with host and port only (credentials go in RETRACT_IMAP_MASTER_*)',
      )
      .optional(),
    RETRACT_IMAP_MASTER_USER: z.string().min(1).optional(),
    RETRACT_IMAP_MASTER_PASSWORD: z.string().min(1).optional(),
    RETRACT_DOMAINS: domainList.optional(),
    RETRACT_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(4),
    RETRACT_RATE_PER_SECOND: z.coerce.number().gt(0).default(10),
    RETRACT_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
  })
  .superRefine((c, context) => {
    const fail = (path: string, message: string) => context.addIssue({ code: 'custom', path: [path], message });
    if (c.REDIS_SENTINELS && c.REDIS_CLUSTER_NODES) fail('REDIS_CLUSTER_NODES', 'set REDIS_SENTINELS or REDIS_CLUSTER_NODES, not both');
    const via = c.REDIS_SENTINELS ? 'REDIS_SENTINELS' : c.REDIS_CLUSTER_NODES ? 'REDIS_CLUSTER_NODES' : undefined;
    if (via && c.REDIS_URL) fail('REDIS_URL', `unset it: with ${via}, Redis is found through those nodes`);
    if (c.REDIS_SENTINELS && !c.REDIS_SENTINEL_NAME)
      fail('REDIS_SENTINEL_NAME', 'needed with REDIS_SENTINELS: the name of the master group the sentinels watch');
    for (const name of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (c[name] && !c.REDIS_SENTINELS) fail(name, 'only with REDIS_SENTINELS');
    }
    for (const name of ['REDIS_USERNAME', 'REDIS_PASSWORD'] as const) {
      if (c[name] && !via)
        fail(
          name,
          'only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; a single Redis takes them in REDIS_URL (redis://user:password@host:6379)',
        );
    }
    if (c.REDIS_TLS && !via)
      fail('REDIS_TLS', 'only with REDIS_SENTINELS or REDIS_CLUSTER_NODES; a single Redis uses TLS with a rediss:// REDIS_URL');
    if (c.REDIS_TLS_CA && !c.REDIS_TLS) {
      fail('REDIS_TLS_CA', 'only with REDIS_TLS=true (for a rediss:// REDIS_URL, give Node the CA in NODE_EXTRA_CA_CERTS)');
    }
    if (c.REDIS_CLUSTER_NODES && !HASH_TAG.test(c.QUEUE_PREFIX)) {
      fail(
        'QUEUE_PREFIX',
        `needs a hash tag under Redis Cluster, e.g. {${c.QUEUE_PREFIX.replace(/[{}]/g, '')}}: BullMQ's scripts touch several keys of a queue at once, and they must share one slot`,
      );
    }
  })
  .refine((c) => !c.MIGRATION_DATABASE_URL || c.DATABASE_URL, {
    path: ['MIGRATION_DATABASE_URL'],
    message: "needs DATABASE_URL, the app's own role on the database it owns",
  })
  .refine((c) => !c.RETRACT_IMAP_URL || (c.RETRACT_IMAP_MASTER_USER && c.RETRACT_IMAP_MASTER_PASSWORD && c.RETRACT_DOMAINS?.length), {
    path: ['RETRACT_IMAP_URL'],
    message: 'needs RETRACT_IMAP_MASTER_USER, RETRACT_IMAP_MASTER_PASSWORD and RETRACT_DOMAINS (the recipient domains that server holds)',
  })
  .refine((c) => !(c.AUDIT_CHECKPOINT_DIR || c.AUDIT_CHECKPOINT_EMAIL) || c.AUDIT_KEY, {
    path: ['AUDIT_KEY'],
    message: 'needed to sign the checkpoints AUDIT_CHECKPOINT_DIR or AUDIT_CHECKPOINT_EMAIL receive (e.g. `openssl rand -hex 32`)',
  })
  .transform((c) => ({ ...c, DELIVERY_CLAIM_SIZE: c.DELIVERY_CLAIM_SIZE ?? claimSizeFor(c.SMTP_MAX_CONNECTIONS), REDIS: redisTarget(c) }));

/** One Redis, Sentinel or Cluster, from the variables the schema has checked to be consistent. */
function redisTarget(c: {
  REDIS_URL?: string | undefined;
  REDIS_SENTINELS?: { host: string; port: number }[] | undefined;
  REDIS_SENTINEL_NAME?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  REDIS_CLUSTER_NODES?: { host: string; port: number }[] | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS: boolean;
  REDIS_TLS_CA?: string | undefined;
}): RedisTarget {
  const auth = {
    ...(c.REDIS_USERNAME ? { username: c.REDIS_USERNAME } : {}),
    ...(c.REDIS_PASSWORD ? { password: c.REDIS_PASSWORD } : {}),
    ...(c.REDIS_TLS ? { tls: c.REDIS_TLS_CA ? { caFile: c.REDIS_TLS_CA } : {} } : {}),
  };
  if (c.REDIS_SENTINELS) {
    return {
      kind: 'sentinel',
      sentinels: c.REDIS_SENTINELS,
      name: c.REDIS_SENTINEL_NAME!,
      ...(c.REDIS_SENTINEL_PASSWORD ? { sentinelPassword: c.REDIS_SENTINEL_PASSWORD } : {}),
      ...auth,
    };
  }
  if (c.REDIS_CLUSTER_NODES) return { kind: 'cluster', nodes: c.REDIS_CLUSTER_NODES, ...auth };
  return { kind: 'url', url: c.REDIS_URL ?? DEFAULT_REDIS_URL };
}

/**
 * Rows a deliver job keeps reserved or on their way, by default: four times the SMTP pool (at
 * least 40). One job alone, refilling at half, still has a row for every connection while its
 * next reservation is on its way, and a reservation takes twice the pool at once: each is a
 * statement on the database server, which shares the machine with the sending (against twice
 * the pool, the server's CPU a message fell from 0.41 to 0.37-0.38 ms at a pool of 10). Reserved
 * rows are not in flight, so this does not widen a halt.
 */
export function claimSizeFor(smtpMaxConnections: number): number {
  return Math.max(40, 4 * smtpMaxConnections);
}

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/** Parses the environment once; a wrong value names the variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = configSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
