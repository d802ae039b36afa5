import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { forkBeside } from '../fork-beside.js';
import { migrateToLatest } from './migrate.js';
import { grantAppRole } from './privileges.js';
import type { DB } from './schema.js';
import { PGliteDialect } from './pglite-dialect.js';
import { preparingPool, withGenericPlans } from './prepared.js';

export type DatabaseTarget =
  /** `ownerUrl`: migrations run as that role, which then grants the role in `url` (the app's) what it needs. */
  | { kind: 'postgres'; url: string; ownerUrl?: string }
  /** `sharedBuffers` unset: PGlite's own 128MB, which its WebAssembly memory keeps for the life of the process. */
  | { kind: 'pglite'; dataDir: string | 'memory'; sharedBuffers?: string };

export interface Database {
  db: Kysely<DB>;
  kind: 'postgres' | 'pglite';
  close(): Promise<void>;
}

export class DataFolderLockedError extends Error {}

// PostgreSQL returns bigint (count(*), bigserial) as text by default; our counts fit in a JS number.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

export async function openDatabase(target: DatabaseTarget, options: { migrate?: boolean } = {}): Promise<Database> {
  if (target.kind === 'postgres' && target.ownerUrl && (options.migrate ?? true)) {
    await migrateAsOwner(target.ownerUrl, target.url);
    return openPostgres(target.url);
  }
  const database = target.kind === 'postgres' ? openPostgres(target.url) : await openPglite(target.dataDir, target.sharedBuffers);
  if (options.migrate ?? true) {
    try {
      await migrateToLatest(database.db as Kysely<unknown>);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}

/** Least privilege: the owner migrates and grants; the app's role owns nothing and is no superuser. Returns the migrations applied. */
export async function migrateAsOwner(ownerUrl: string, appUrl: string): Promise<string[]> {
  const appRole = decodeURIComponent(new URL(appUrl).username);
  const ownerRole = decodeURIComponent(new URL(ownerUrl).username);
  if (!appRole) throw new Error("DATABASE_URL must name the app's role (postgres://role@host/db) when MIGRATION_DATABASE_URL is set");
  if (appRole === ownerRole)
    throw new Error("MIGRATION_DATABASE_URL must connect as the owner, another role than the app's in DATABASE_URL");
  const owner = openPostgres(ownerUrl);
  try {
    const applied = await migrateToLatest(owner.db as Kysely<unknown>);
    await grantAppRole(owner.db as Kysely<unknown>, appRole);
    return applied;
  } finally {
    await owner.close();
  }
}

/**
 * A process's connections to the server. The per-message statements (one ledger write at a time,
 * and a reservation per running window) have a few of their own.
 */
const POOL_SIZE = 20;
const MARKED_POOL_SIZE = 6;

function openPostgres(url: string): Database {
  const pool = new pg.Pool({ connectionString: url, max: POOL_SIZE - MARKED_POOL_SIZE });
  const marked = withGenericPlans(new pg.Pool({ connectionString: url, max: MARKED_POOL_SIZE }));
  let closing = false;
  // An idle connection the server drops (restart, failover) must not take the process down:
  // the pool discards it and opens a new one on the next query.
  for (const each of [pool, marked])
    each.on('error', (error) => {
      if (!closing) console.warn(`[countersign] PostgreSQL dropped an idle connection: ${error.message}`);
    });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool, marked) }) });
  return {
    db,
    kind: 'postgres',
    close: async () => {
      closing = true;
      await db.destroy();
    },
  };
}

/**
 * V8 compiles WebAssembly quickly at first (Liftoff), then again, optimised, for the functions that
 * run hot, in the background while the process works. For PGlite's PostgreSQL those second compiles
 * took about 60 MB more at the process's peak: a 100,000-recipient import-then-send in one process
 * peaked at 388–399 MB, and at 330–333 MB compiled optimised once at the start, at the same send
 * rate. Opening PGlite takes about 1.2 s longer (0.5 s before). Set before PGlite compiles its
 * module, which it does when an instance is created.
 */
function compileWasmOptimisedOnce(): void {
  setFlagsFromString('--no-liftoff');
}

async function openPglite(dataDir: string | 'memory', sharedBuffers: string | undefined): Promise<Database> {
  compileWasmOptimisedOnce();
  const options = { startParams: [...PGlite.defaultStartParams, ...(sharedBuffers ? ['-c', `shared_buffers=${sharedBuffers}`] : [])] };
  if (dataDir === 'memory') return pgliteDatabase(await PGlite.create(options), () => {});
  mkdirSync(dataDir, { recursive: true });
  const releaseLock = lockDataFolder(dataDir);
  try {
    const folder = path.join(dataDir, 'pglite');
    await createDataFolder(folder);
    return pgliteDatabase(await PGlite.create(folder, options), releaseLock);
  } catch (error) {
    releaseLock();
    throw error;
  }
}

/** Closing it closes Kysely, then PGlite, then `afterClose` (the data folder's lock). */
function pgliteDatabase(pglite: PGlite, afterClose: () => void): Database {
  const db = new Kysely<DB>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    close: async () => {
      await db.destroy();
      await pglite.close();
      afterClose();
    },
  };
}

/** A new data folder is created in a child process (see pglite-initdb.ts); an existing one is left as it is. */
async function createDataFolder(folder: string): Promise<void> {
  if (existsSync(path.join(folder, 'PG_VERSION'))) return;
  const child = forkBeside(import.meta.url, 'pglite-initdb', [folder], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let output = '';
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => child.once('error', reject).once('close', resolve));
  if (code !== 0) throw new Error(`creating the embedded database in ${folder} failed (exit code ${code}): ${output.trim()}`);
}

/** PGlite has no lock of its own and two processes on one folder corrupt it. */
function lockDataFolder(dataDir: string): () => void {
  const lockPath = path.join(dataDir, 'pglite.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number.parseInt(readFileSync(lockPath, 'utf8'), 10);
      if (Number.isInteger(holder) && holder !== process.pid && isAlive(holder)) {
        throw new DataFolderLockedError(
          `The embedded database in ${dataDir} is in use by another Countersign process (pid ${holder}). ` +
            'PGlite allows one process per data folder: to run the API and workers as separate processes, ' +
            'set DATABASE_URL to a PostgreSQL database.',
        );
      }
      rmSync(lockPath, { force: true });
    }
  }
  throw new DataFolderLockedError(`could not take the lock ${lockPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
