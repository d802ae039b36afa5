import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/connect.js';
import { reserveDeliveries, writeLedgerStep } from '../../src/db/deliveries.js';
import { PREPARED, preparingPool, withGenericPlans } from '../../src/db/prepared.js';
import type { DB } from '../../src/db/schema.js';
import { isolatedDatabase } from '../support/harness.js';

describe('statements run for every message are prepared once per connection', () => {
  let db: Kysely<DB>;
  let close: () => Promise<void>;
  let drop: () => Promise<void>;
  let kind: 'postgres' | 'pglite';
  let target: Awaited<ReturnType<typeof isolatedDatabase>>['target'];
  /** PostgreSQL: the connection marked statements run on. */
  let marked: pg.Pool | undefined;

  beforeAll(async () => {
    const database = await isolatedDatabase();
    drop = database.drop;
    kind = database.target.kind;
    target = database.target;
    if (database.target.kind === 'postgres') {
      // One connection for marked statements: what it has prepared is what pg_prepared_statements shows there.
      const pool = new pg.Pool({ connectionString: database.target.url, max: 1 });
      marked = withGenericPlans(new pg.Pool({ connectionString: database.target.url, max: 1 }));
      db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool, marked) }) });
      close = () => db.destroy();
    } else {
      ({ db, close } = await openDatabase(database.target));
    }
  });

  afterAll(async () => {
    await close?.();
    await drop?.();
  });

  /** On the connection the marked statements ran on (PGlite has one). */
  const onMarked = async <R extends object>(text: string): Promise<R[]> =>
    marked ? (await marked.query<R>(text)).rows : (await sql.raw<R>(text).execute(db)).rows;

  const prepared = async () =>
    (await onMarked<{ statement: string }>('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time')).map((r) => r.statement);

  it('binds each call its own values, and prepares only what is marked', async () => {
    const plusOne = (n: number) => sql<{ n: number }>`${PREPARED} SELECT ${n}::int + 1 AS n`.execute(db);
    expect((await plusOne(1)).rows).toEqual([{ n: 2 }]);
    expect((await plusOne(41)).rows).toEqual([{ n: 42 }]);
    await expect(sql`${PREPARED} SELECT 1 / ${0}::int AS n`.execute(db)).rejects.toThrow(/division by zero/);
    // The connection is usable after an error.
    expect((await plusOne(-1)).rows).toEqual([{ n: 0 }]);
    expect((await sql<{ n: number }>`SELECT ${2}::int * 2 AS n`.execute(db)).rows).toEqual([{ n: 4 }]);
    // A different text under the mark gets a name of its own instead of colliding with the first.
    expect((await sql<{ n: number }>`${PREPARED} SELECT ${3}::int * 3 AS n`.execute(db)).rows).toEqual([{ n: 9 }]);
    expect(await prepared()).toEqual([
      '/* prepared */ SELECT $1::int + 1 AS n',
      '/* prepared */ SELECT 1 / $1::int AS n',
      '/* prepared */ SELECT $1::int * 3 AS n',
    ]);
  });

  it('prepares the ledger steps and the reservation', async () => {
    const before = (await prepared()).length;
    const results = [{ seq: 1, status: 'sent' as const, response: '250 ok' }];
    await writeLedgerStep(db, 'no-such-campaign', { results });
    await writeLedgerStep(db, 'no-such-campaign', { starts: { contentHash: 'h', rows: [{ seq: 1, token: 't' }] }, results });
    await writeLedgerStep(db, 'no-such-campaign', { starts: { contentHash: 'h', rows: [{ seq: 2, token: 't' }] }, results: [] });
    const claim = { campaignId: 'no-such-campaign', contentHash: 'h', fromSeq: 1, toSeq: 10, limit: 5 };
    await reserveDeliveries(db, { ...claim, messageIdDomain: 'example.com', token: 't', staleSeconds: 10 });
    // Again with other values: the same four statements, nothing new prepared.
    await writeLedgerStep(db, 'other', { results: [...results, { seq: 2, status: 'failed', response: '550 no' }] });
    await reserveDeliveries(db, { ...claim, fromSeq: 11, toSeq: 20, messageIdDomain: 'example.org', token: 'u', staleSeconds: 10 });
    const added = (await prepared()).slice(before);
    expect(added).toHaveLength(4);
    expect(added.every((statement) => /UPDATE deliveries/.test(statement))).toBe(true);
  });

  it('runs a marked statement on its generic plan from the first call, and nothing else', async () => {
    const customPlans = async () =>
      (
        await onMarked<{ custom_plans: string }>(`SELECT custom_plans FROM pg_prepared_statements WHERE statement LIKE '%seq BETWEEN%'`)
      ).reduce((n, p) => n + Number(p.custom_plans), 0);
    const step = (seq: number) =>
      writeLedgerStep(db, 'no-such-campaign', { starts: { contentHash: 'h', rows: [{ seq, token: 't' }] }, results: [] });
    const before = await customPlans();
    for (let seq = 100; seq < 108; seq += 1) await step(seq);
    expect(await customPlans()).toBe(before);
    // The setting is the marked statements' alone: other statements plan as they always did.
    expect((await sql<{ plan_cache_mode: string }>`SHOW plan_cache_mode`.execute(db)).rows).toEqual([{ plan_cache_mode: 'auto' }]);
  });

  it("inside a transaction, runs a marked statement on the transaction's own connection", async () => {
    const seen = await db.transaction().execute(async (trx) => {
      await sql`CREATE TEMP TABLE only_here (n int) ON COMMIT DROP`.execute(trx);
      await sql`INSERT INTO only_here VALUES (${7})`.execute(trx);
      return (await sql<{ n: number }>`${PREPARED} SELECT n FROM only_here WHERE n = ${7}::int`.execute(trx)).rows;
    });
    expect(seen).toEqual([{ n: 7 }]);
  });

  it("so does a process's own database, as it opens it", async () => {
    const app = kind === 'postgres' ? await openDatabase(target) : { db, close: async () => {} };
    try {
      const mode = async (mark: typeof PREPARED | null) =>
        (await sql<{ mode: string }>`${mark ?? sql``} SELECT current_setting('plan_cache_mode') AS mode`.execute(app.db)).rows;
      expect(await mode(PREPARED)).toEqual([{ mode: 'force_generic_plan' }]);
      expect(await mode(null)).toEqual([{ mode: 'auto' }]);
    } finally {
      await app.close();
    }
  });
});
