import type { Kysely } from 'kysely';
import { z } from 'zod';
import { pendingMigrations } from '../db/migrate.js';
import { killSwitchState } from '../db/system-state.js';
import { primaries } from '../queue/connection.js';
import type { AppContext } from './context.js';

/** How long one check may take before it counts as failed: a load balancer must get an answer, not a hung request. */
const CHECK_TIMEOUT_MS = 2000;
/** A relay is asked at most this often; a load balancer polling every few seconds does not open a connection each time. */
const SMTP_VERIFY_TTL_MS = 30_000;

const check = z.object({ ok: z.boolean(), detail: z.string() });
export const readinessReport = z.object({
  ready: z.boolean(),
  checks: z.object({ database: check, redis: check, smtp: check }),
  /** Informational: an engaged kill switch stops sending, not the API, so it does not make the process unready. Null: unknown, the database did not answer. */
  killSwitch: z.object({ engaged: z.boolean().nullable(), by: z.string().optional(), at: z.string().optional() }),
});
export type ReadinessReport = z.infer<typeof readinessReport>;
type Check = z.infer<typeof check>;

function withinTimeout<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${CHECK_TIMEOUT_MS} ms`)), CHECK_TIMEOUT_MS);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function run(what: string, probe: () => Promise<string>): Promise<Check> {
  try {
    return { ok: true, detail: await withinTimeout(probe(), what) };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  }
}

async function databaseCheck(ctx: AppContext): Promise<string> {
  const pending = await pendingMigrations(ctx.db as Kysely<unknown>);
  if (pending.length) throw new Error(`migrations not applied: ${pending.join(', ')} (run countersign migrate)`);
  return 'reachable, migrated';
}

/**
 * Every primary Countersign writes to: under a Cluster each master (a replica's setting is read when
 * it is promoted and this is asked again); under Sentinel, the current master.
 */
async function redisCheck(ctx: AppContext): Promise<string> {
  const nodes = primaries(ctx.queues.redis);
  const policies = await Promise.all(
    nodes.map(async (node) => {
      const [, policy] = (await node.config('GET', 'maxmemory-policy')) as [string, string];
      return { node: `${node.options.host}:${node.options.port}`, policy };
    }),
  );
  if (policies.length === 0) throw new Error('no Redis Cluster master is connected');
  const wrong = policies.filter((p) => p.policy !== 'noeviction');
  if (wrong.length) {
    const where = nodes.length > 1 ? ` on ${wrong.map((p) => p.node).join(', ')}` : '';
    throw new Error(`maxmemory-policy is ${wrong[0]!.policy}${where}; BullMQ needs noeviction, or Redis may drop queued jobs`);
  }
  return nodes.length > 1
    ? `reachable, maxmemory-policy noeviction on all ${nodes.length} masters`
    : 'reachable, maxmemory-policy noeviction';
}

const verifiedAt = new WeakMap<AppContext['mailer'], number>();

async function smtpCheck(ctx: AppContext): Promise<string> {
  const kind = ctx.mailer.kind === 'smtp' ? 'SMTP relay' : 'file outbox';
  const last = verifiedAt.get(ctx.mailer);
  if (last !== undefined && Date.now() - last < SMTP_VERIFY_TTL_MS) return `${kind} verified`;
  verifiedAt.delete(ctx.mailer);
  await ctx.mailer.verify();
  verifiedAt.set(ctx.mailer, Date.now());
  return `${kind} verified`;
}

/** What a load balancer asks before sending traffic: every dependency answers, each check bounded in time. */
export async function readiness(ctx: AppContext): Promise<ReadinessReport> {
  const [database, redis, smtp, killSwitch] = await Promise.all([
    run('the database', () => databaseCheck(ctx)),
    run('Redis', () => redisCheck(ctx)),
    run('the mail transport', () => smtpCheck(ctx)),
    withinTimeout(killSwitchState(ctx.db), 'the database').catch(() => ({ engaged: null })),
  ]);
  return { ready: database.ok && redis.ok && smtp.ok, checks: { database, redis, smtp }, killSwitch };
}
