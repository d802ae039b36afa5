import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';

export type DatabaseKind = 'pglite' | 'postgres';

/** The server the PostgreSQL run creates its own database on. */
export const POSTGRES_URL = process.env.DATABASE_URL ?? process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * A fresh, empty database for one run, as the settings a deployment would give it: PGlite in a temporary
 * DATA_DIR, or bench_<random> on PostgreSQL as DATABASE_URL.
 */
export async function freshDatabase(
  kind: DatabaseKind,
): Promise<{ env: { DATA_DIR: string } | { DATABASE_URL: string }; drop(): Promise<void> }> {
  if (kind === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'countersign-bench-'));
    return { env: { DATA_DIR: dataDir }, drop: async () => rmSync(dataDir, { recursive: true, force: true }) };
  }
  const name = `bench_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return { env: { DATABASE_URL: url.toString() }, drop: () => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

async function adminQuery(statement: string): Promise<void> {
  await withAdminClient((client) => client.query(statement));
}

/**
 * The server's version and whether autovacuum runs, printed with the figures: without it the
 * ledger keeps the statistics the fan-out took and every dead row version, which the halt's
 * counts then read (a million-recipient halt: 589 ms with it off, 322 ms with it on).
 */
export async function describePostgresServer(): Promise<string> {
  const { rows } = await withAdminClient((client) =>
    client.query<{ version: string; autovacuum: string }>(
      `SELECT current_setting('server_version') AS version, current_setting('autovacuum') AS autovacuum`,
    ),
  );
  return `PostgreSQL ${rows[0]!.version}, autovacuum ${rows[0]!.autovacuum}`;
}

async function withAdminClient<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
