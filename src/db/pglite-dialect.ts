import type { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  type QueryResult,
} from 'kysely';
import { serialize } from 'pg-protocol';
import { isPrepared, statementName } from './prepared.js';

/**
 * PGlite has one connection. Kysely assumes a pool, so without this mutex two
 * concurrent transactions would interleave their statements on that connection.
 * Modelled on the PGlite dialect that Kysely 0.29 ships (0.29 needs Node 22).
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
}

class ConnectionMutex {
  #held: Promise<void> | null = null;
  #release: (() => void) | null = null;

  async lock(): Promise<void> {
    while (this.#held) await this.#held;
    this.#held = new Promise((resolve) => (this.#release = resolve));
  }

  unlock(): void {
    const release = this.#release;
    this.#held = null;
    this.#release = null;
    release?.();
  }
}

class PGliteDriver implements Driver {
  readonly #mutex = new ConnectionMutex();
  readonly #connection: PGliteConnection;

  constructor(pglite: PGlite) {
    this.#connection = new PGliteConnection(pglite);
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#mutex.lock();
    return this.#connection;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {
    this.#mutex.unlock();
  }

  async destroy(): Promise<void> {}
}

/** What the wire protocol answers, as PGlite parses it: only the parts read here. */
interface BackendMessage {
  name: string;
  dataTypeIDs?: number[];
  fields?: ({ name: string; dataTypeID: number } | string | null)[];
  text?: string;
}

interface PreparedStatement {
  name: string;
  parameterTypes: number[];
  columns: { name: string; dataTypeID: number }[];
}

interface SessionSetting {
  set: Uint8Array;
  reset: Uint8Array;
}

/**
 * A marked statement always runs its generic plan, which it was written for (see `PREPARED`). Left
 * to choose, PostgreSQL planned the ledger step afresh for every call (its generic plan's estimate,
 * made for arrays of unknown length, never beat the custom plans'), in WebAssembly on the
 * process's one thread. Only for these statements: a one-off query with parameters keeps its plan
 * made for its values.
 */
const GENERIC_PLAN: SessionSetting = {
  set: serialize.query('SET plan_cache_mode TO force_generic_plan'),
  reset: serialize.query('RESET plan_cache_mode'),
};

class PGliteConnection implements DatabaseConnection {
  readonly #prepared = new Map<string, PreparedStatement>();

  constructor(private readonly pglite: PGlite) {}

  async executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    if (isPrepared(compiledQuery.sql)) return this.#executePrepared<R>(compiledQuery);
    const result = await this.pglite.query<R>(compiledQuery.sql, [...compiledQuery.parameters], {
      rowMode: 'object',
    });
    const numAffectedRows = result.affectedRows === undefined ? undefined : BigInt(result.affectedRows);
    return { rows: result.rows, numAffectedRows };
  }

  /**
   * A statement marked PREPARED is parsed and planned once and then only bound and executed:
   * `query` parses and plans every call, in WebAssembly on the process's one thread, and takes six
   * calls into PGlite where this takes one.
   */
  async #executePrepared<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#prepared.get(compiledQuery.sql) ?? (await this.#prepare(compiledQuery.sql));
    const values = compiledQuery.parameters.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serialize = this.pglite.serializers[statement.parameterTypes[i]!];
      return serialize ? serialize(value) : String(value);
    });
    const messages = await this.#exchange([serialize.bind({ statement: statement.name, values }), serialize.execute({})], GENERIC_PLAN);
    const rows = messages
      .filter((m) => m.name === 'dataRow')
      .map((m) =>
        Object.fromEntries(
          statement.columns.map((column, i) => {
            const text = m.fields![i] as string | null;
            const parse = this.pglite.parsers[column.dataTypeID];
            return [column.name, text === null ? null : parse ? parse(text, column.dataTypeID) : text];
          }),
        ),
      ) as R[];
    const affected = /^(?:INSERT \d+|UPDATE|DELETE|MERGE) (\d+)$/.exec(messages.find((m) => m.name === 'commandComplete')?.text ?? '');
    return { rows, numAffectedRows: affected ? BigInt(affected[1]!) : undefined };
  }

  async #prepare(text: string): Promise<PreparedStatement> {
    const name = statementName(text);
    const messages = await this.#exchange([serialize.parse({ name, text }), serialize.describe({ type: 'S', name })]);
    const statement: PreparedStatement = {
      name,
      parameterTypes: messages.find((m) => m.name === 'parameterDescription')?.dataTypeIDs ?? [],
      columns: (messages.find((m) => m.name === 'rowDescription')?.fields ?? []) as PreparedStatement['columns'],
    };
    this.#prepared.set(text, statement);
    return statement;
  }

  /**
   * Messages go one call each, as PGlite's own `query` sends them, and a Sync always follows: after
   * an error the server skips everything up to one. An error answer throws. `setting` is in force
   * for these messages alone: it is set before them and reset after the Sync, and what it answers
   * is not among the answers.
   */
  #exchange(messages: Uint8Array[], setting?: SessionSetting): Promise<BackendMessage[]> {
    return this.pglite.runExclusive(async () => {
      const answers: BackendMessage[] = [];
      if (setting) await this.pglite.execProtocolStream(setting.set);
      try {
        for (const message of messages) answers.push(...((await this.pglite.execProtocolStream(message)) as BackendMessage[]));
      } finally {
        await this.pglite.execProtocolStream(serialize.sync());
        if (setting) await this.pglite.execProtocolStream(setting.reset);
      }
      return answers;
    });
  }

  // eslint-disable-next-line require-yield -- PGlite cannot stream; Kysely only calls this for .stream()
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite does not support streaming queries');
  }
}
