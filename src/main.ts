import type { Server } from 'node:http';
import { getHeapStatistics } from 'node:v8';
import { ConfigError, loadConfig } from './config.js';
import { DataFolderLockedError, PolicyFileError } from './runtime.js';
import { createApp } from './http/app.js';
import { createLogger } from './logger.js';
import { metricsApp } from './http/metrics.js';
import { ensureRedis, RedisUnavailableError } from './private-redis.js';
import { createRuntime, describeRedis } from './runtime.js';
import { recordPolicyChange } from './services/policy.js';
import { retractionOff } from './services/retraction.js';
import { startWorkers, type Workers } from '../workers/index.js';

type Role = 'all' | 'api' | 'workers';

const logger = createLogger();
const log = (line: string) => logger.info(line);

async function main(role: Role): Promise<void> {
  const config = loadConfig();
  if (role !== 'all' && !config.DATABASE_URL) {
    throw new DataFolderLockedError(
      `"${role}" alone is the scale-out shape and needs DATABASE_URL (PostgreSQL): the embedded database allows one process. Use npm start to run everything in one process.`,
    );
  }
  // A private redis-server stands in only for one unreachable endpoint, never for Sentinel or Cluster.
  const redis =
    role === 'all' && config.REDIS.kind === 'url'
      ? await ensureRedis(config.REDIS.url, config.DATA_DIR, config.START_PRIVATE_REDIS, log)
      : config.REDIS;
  const runtime = await createRuntime(config, { redis });
  log(`redis: ${describeRedis(redis)}, queue prefix ${config.QUEUE_PREFIX}`);
  if (await recordPolicyChange(runtime.ctx, runtime.policySource))
    log(`policy: ${config.POLICY_FILE ?? 'none'} (changed since the last start: recorded in the audit chain)`);
  log(`database: ${runtime.database.kind === 'pglite' ? `embedded PGlite in ${config.DATA_DIR}` : 'PostgreSQL'}`);
  // The start scripts bound the heap (package.json config.max_old_space_mb); a bare `node` gets V8's default, sized from the machine's memory.
  log(`V8 heap limit: ${Math.round(getHeapStatistics().heap_size_limit / 2 ** 20)} MB`);
  log(`mail: ${runtime.ctx.mailer.kind === 'smtp' ? 'SMTP' : `file outbox in ${config.OUTBOX_DIR ?? `${config.DATA_DIR}/outbox`}`}`);
  // Host and domains only: the master login never reaches a log.
  log(`retraction: ${retractionOff(runtime.ctx) ?? `on, through ${runtime.ctx.mailbox!.name} for ${config.RETRACT_DOMAINS?.join(', ')}`}`);

  let server: Server | undefined;
  let workers: Workers | undefined;
  if (role !== 'workers') {
    server = createApp(runtime.ctx, logger).listen(config.PORT, () => log(`API and pages on ${config.PUBLIC_URL} (port ${config.PORT})`));
  }
  if (role === 'workers' && config.METRICS_PORT && config.METRICS_TOKEN) {
    const port = config.METRICS_PORT;
    server = metricsApp(runtime.ctx).listen(port, () => log(`metrics on port ${port} (/metrics)`));
  }
  if (role !== 'api') {
    workers = startWorkers(runtime.ctx, logger);
    log(`workers running (deliver concurrency ${config.WORKER_CONCURRENCY}, ${config.SEND_RATE_PER_SECOND} messages/s across all workers)`);
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await workers?.close();
    await runtime.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

const role = (process.argv[2] ?? 'all') as Role;
if (!['all', 'api', 'workers'].includes(role)) {
  console.error(`usage: main.ts [all|api|workers]`);
  process.exit(2);
}
main(role).catch((error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof DataFolderLockedError ||
    error instanceof RedisUnavailableError ||
    error instanceof PolicyFileError;
  console.error(known ? (error as Error).message : error);
  process.exit(1);
});
