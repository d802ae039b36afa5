import { createHash } from 'node:crypto';
import { sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';

const MARK = '/* prepared */';

/**
 * Put first in a statement that runs for every message (the ledger's steps, reservations): it is
 * parsed once per connection instead of for every call, and runs on its generic plan from the
 * first call. Left to choose, PostgreSQL planned the ledger step afresh on every call (its generic
 * plan, estimated for arrays of unknown length, never beat the custom plans), and planning cost as
 * much as running it. So such a statement must bound the rows it reads with its parameters alone,
 * as the seq ranges do. On the server it runs on connections of its own (see `preparingPool`);
 * PGlite sets the plan mode for its bind alone (see the PGlite dialect).
 */
export const PREPARED = sql.raw(MARK);

export function isPrepared(text: string): boolean {
  return text.startsWith(MARK);
}

/** The name a marked statement is prepared under: its text decides it, so two texts never share one. */
export function statementName(text: string): string {
  return `cs_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
}

/** Readies a pool for marked statements: every parameterised statement on its connections takes its generic plan. */
export function withGenericPlans(pool: pg.Pool): pg.Pool {
  pool.on('connect', (client) => void client.query('SET plan_cache_mode TO force_generic_plan').catch(() => {}));
  return pool;
}

/**
 * A pool for Kysely's PostgreSQL dialect: a statement marked PREPARED runs prepared on `marked`,
 * whose connections take generic plans; everything else on `pool`, where a one-off query with
 * parameters keeps the plan made for its values. Kysely takes a connection for each statement
 * outside a transaction and starts a transaction with BEGIN, so a connection's first statement
 * decides its pool, and a marked statement inside a transaction stays on the transaction's.
 */
export function preparingPool(pool: pg.Pool, marked: pg.Pool): PostgresPool {
  return {
    async connect() {
      let client: Promise<pg.PoolClient> | null = null;
      const query = async (text: string, values: readonly unknown[]) => {
        const own = await (client ??= (isPrepared(text) ? marked : pool).connect());
        return isPrepared(text) ? own.query({ name: statementName(text), text, values: [...values] }) : own.query(text, [...values]);
      };
      const release = (discard?: boolean) =>
        void client?.then(
          (own) => own.release(discard),
          () => {},
        );
      return { query, release } as unknown as PostgresPoolClient;
    },
    end: async () => {
      await Promise.all([pool.end(), marked.end()]);
    },
  };
}
