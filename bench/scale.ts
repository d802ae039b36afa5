import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import pg from 'pg';
import { AppProcess, freePort } from './app-process.js';
import type { DatabaseKind } from './database.js';
import { Deployment } from './deployment.js';
import { AUDIENCE_DOMAIN, CONTENT, recipient } from './message.js';
import { megabytes, redisUsedMemory, samplePeak } from './sampler.js';
import type { SinkClient } from './sink-client.js';
import { monotonicMs } from './sink.js';

export interface ScaleOptions {
  database: DatabaseKind;
  recipients: number;
  /** `all`: one process, as `npm start` runs; a number: one API process and that many worker processes (PostgreSQL). */
  shape: 'all' | number;
  /** SMTP_MAX_CONNECTIONS of each sending process. */
  pool: number;
  /** Halt once this share has arrived (the rest still queued); null sends to everyone. */
  haltAt: number | null;
  log?: (line: string) => void;
}

export interface ScaleResult {
  database: DatabaseKind;
  shape: string;
  recipients: number;
  /** The CSV upload through the API, streamed as a client sends it. */
  importSeconds: number;
  /** Submit: the audience frozen into the snapshot and hashed. */
  freezeSeconds: number;
  /** From the last approval until the ledger held every recipient. */
  fanOutSeconds: number;
  firstMessageSeconds: number;
  /** Arrivals from the first to the last before any halt. */
  sendPerSecond: number;
  halt: { ms: number; inFlight: number; stopped: number } | null;
  /** The recall: the correction's audience built from the ledger and frozen. */
  correction: { seconds: number; audience: number };
  /** Peak RSS (VmHWM) of each process, MB. */
  peakRssMb: Record<string, number | null>;
  peakRedisMb: number;
  redisDeltaMb: number;
  databaseMb: number;
}

/** The list as a client uploads it: a CSV body produced a thousand rows at a time, never whole in memory. */
function csvBody(size: number): Readable {
  return Readable.from(
    (function* () {
      yield 'email,name\n';
      for (let start = 0; start < size; start += 1000) {
        let chunk = '';
        for (let i = start; i < Math.min(size, start + 1000); i += 1) chunk += `${recipient(i).email},${recipient(i).name}\n`;
        yield chunk;
      }
    })(),
  );
}

/**
 * An operator's big send, everything through the HTTP API of processes started from the build:
 * a streamed CSV import, the freeze, two approvals, the fan-out and the send, a halt with most
 * of the audience still queued, and the recall's correction. Run by `npm run bench -- --scale N`.
 */
export async function runScale(sink: SinkClient, options: ScaleOptions): Promise<ScaleResult> {
  const log = options.log ?? (() => {});
  const tag = `[scale ${options.database} ${options.recipients}]`;
  const deployment = await Deployment.start(
    options.database,
    sink.url,
    { SMTP_MAX_CONNECTIONS: String(options.pool), MAX_LIST_SIZE: String(options.recipients) },
    { workers: false },
  );
  const { authorToken, approverTokens } = deployment.people;
  const settings = deployment.settings;
  const databaseUrl = settings.DATABASE_URL;
  // PGlite allows one process: this one lets go before the one under measurement opens it.
  if (!databaseUrl) await deployment.release();
  const port = await freePort();
  const env = { ...settings, PORT: String(port) };
  const processes: AppProcess[] = [];
  try {
    if (options.shape === 'all') processes.push(await AppProcess.start('all', env));
    else {
      processes.push(await AppProcess.start('api', env));
      for (let i = 0; i < options.shape; i += 1) processes.push(await AppProcess.start('workers', env));
    }
    const api = async (
      token: string,
      method: string,
      path: string,
      body?: unknown,
    ): Promise<{ status: number; body: Record<string, unknown> }> => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const parsed = (await response.json()) as Record<string, unknown>;
      if (response.status >= 300) throw new Error(`${method} ${path} answered ${response.status}: ${JSON.stringify(parsed)}`);
      return { status: response.status, body: parsed };
    };
    await sink.reset(`@${AUDIENCE_DOMAIN}`);
    const redisBefore = await redisUsedMemory(deployment.redis);
    const redisPeak = samplePeak(() => redisUsedMemory(deployment.redis), 250);

    log(`${tag} importing a CSV of ${options.recipients} rows through the API`);
    const list = (await api(authorToken, 'POST', '/lists', { name: 'everyone' })).body.id as string;
    let started = monotonicMs();
    const upload = await fetch(`http://127.0.0.1:${port}/api/v1/lists/${list}/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${authorToken}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(csvBody(options.recipients)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    if (upload.status >= 300) throw new Error(`the import answered ${upload.status}: ${await upload.text()}`);
    const importSeconds = (monotonicMs() - started) / 1000;

    const campaign = (
      await api(authorToken, 'POST', '/campaigns', { subject: CONTENT.subject, body: CONTENT.bodyMarkdown, audience: { listIds: [list] } })
    ).body.id as string;
    started = monotonicMs();
    const contentHash = (await api(authorToken, 'POST', `/campaigns/${campaign}/submit`)).body.contentHash as string;
    const freezeSeconds = (monotonicMs() - started) / 1000;
    log(`${tag} frozen in ${freezeSeconds.toFixed(2)} s; approving`);
    for (const token of approverTokens) await api(token, 'POST', `/campaigns/${campaign}/approve`, { contentHash });
    const approvedAt = monotonicMs();

    const deliveries = async () => (await api(authorToken, 'GET', `/campaigns/${campaign}`)).body.deliveries as Record<string, number>;
    let fanOutSeconds = 0;
    while (!fanOutSeconds) {
      const counts = await deliveries();
      if (Object.values(counts).reduce((a, b) => a + b, 0) >= options.recipients) fanOutSeconds = (monotonicMs() - approvedAt) / 1000;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    log(`${tag} ledger full after ${fanOutSeconds.toFixed(2)} s`);
    const target = options.haltAt === null ? options.recipients : Math.ceil(options.recipients * options.haltAt);
    await sink.waitFor(target, 120_000 + options.recipients * 20);
    const arrived = await sink.stats();
    const sendPerSecond = (target - 1) / ((arrived.lastAt! - arrived.firstAt!) / 1000);
    let halt: ScaleResult['halt'] = null;
    if (options.haltAt === null) {
      while ((await api(authorToken, 'GET', `/campaigns/${campaign}`)).body.status !== 'sent')
        await new Promise((resolve) => setTimeout(resolve, 200));
    } else {
      log(`${tag} halting after ${target} arrivals`);
      const { status, text, requestedAt, returnedAt } = await sink.post(
        `http://127.0.0.1:${port}/api/v1/campaigns/${campaign}/halt`,
        { authorization: `Bearer ${authorToken}`, 'content-type': 'application/json' },
        { reason: 'benchmark halt' },
      );
      if (status !== 200) throw new Error(`halt answered ${status}: ${text}`);
      const report = JSON.parse(text) as { inFlight: number; stopped: number };
      halt = { ms: returnedAt - requestedAt, ...report };
    }
    // The recall waits for nothing: in flight or not, its audience is built from the ledger as it stands.
    log(`${tag} recall: the correction's audience from the ledger`);
    started = monotonicMs();
    const recall = (await api(authorToken, 'POST', `/campaigns/${campaign}/recall`, { note: 'Sorry.' })).body as {
      correction: { recipientCount: number };
    };
    const correction = { seconds: (monotonicMs() - started) / 1000, audience: recall.correction.recipientCount };

    const peakRssMb = Object.fromEntries(processes.map((p, i) => [p.role === 'workers' ? `workers ${i}` : p.role, p.peakRssMb()]));
    const peakRedis = await redisPeak.stop();
    return {
      database: options.database,
      shape: options.shape === 'all' ? 'one process' : `API + ${options.shape} workers`,
      recipients: options.recipients,
      importSeconds,
      freezeSeconds,
      fanOutSeconds,
      firstMessageSeconds: (arrived.firstAt! - approvedAt) / 1000,
      sendPerSecond,
      halt,
      correction,
      peakRssMb,
      peakRedisMb: megabytes(peakRedis),
      redisDeltaMb: megabytes(peakRedis - redisBefore),
      databaseMb: await databaseMb(databaseUrl, settings.DATA_DIR),
    };
  } finally {
    await Promise.all(processes.map((p) => p.stop()));
    await deployment.stop();
  }
}

async function databaseMb(url: string | undefined, dataDir: string | undefined): Promise<number> {
  if (!url) return Number(execFileSync('du', ['-sk', dataDir!]).toString().split('\t')[0]) / 1024;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ bytes: string }>('SELECT pg_database_size(current_database()) AS bytes');
    return megabytes(Number(rows[0]!.bytes));
  } finally {
    await client.end();
  }
}
