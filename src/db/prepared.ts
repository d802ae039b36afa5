import { createHash } from 'node:crypto';
import { sql, type PostgresPool, type PostgresPoolClient } from 'kysely';
import type pg from 'pg';

const MARK = '/* prepared */';

/**
 * Put first in a statement that runs for every message (the ledger's steps, reservations):
 * PostgreSQL then keeps it parsed on each connection instead of parsing it for every call, and
 * may keep a generic plan after the fifth call (the ledger step's custom plans always won on the
 * server, which plans it for each call). PGlite runs it on its generic plan from the first call
 * (see the PGlite dialect). So such a statement must bound the rows it reads with its parameters
 * alone, as the seq ranges do.
 */
export const PREPARED = sql.raw(MARK);

export function isPrepared(text: string): boolean {
  return text.startsWith(MARK);
}

/** The name a marked statement is prepared under: its text decides it, so two texts never share one. */
export function statementName(text: string): string {
  return `cs_${createHash('sha1').update(text).digest('hex').slice(0, 24)}`;
}

/** A pool for Kysely's PostgreSQL dialect that prepares the statements marked with PREPARED. */
export function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect() {
      const client = await pool.connect();
      const query = (text: string, values: readonly unknown[]) =>
        isPrepared(text) ? client.query({ name: statementName(text), text, values: [...values] }) : client.query(text, [...values]);
      return { query, release: () => client.release() } as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}
