import { parseArgs } from 'node:util';
import type { DatabaseKind } from './database.js';

export interface BenchOptions {
  messages: number;
  recipients: number;
  databases: DatabaseKind[];
}

const USAGE = 'usage: npm run bench -- [--messages N] [--recipients N] [--db pglite|postgres|both]';

/** Defaults finish in a few minutes on a 2-core machine. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '10000' },
      recipients: { type: 'string', default: '100000' },
      db: { type: 'string', default: 'both' },
    },
  });
  const count = (name: string, raw: string) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 4) throw new Error(`--${name} must be a whole number of at least 4\n${USAGE}`);
    return n;
  };
  if (!['pglite', 'postgres', 'both'].includes(values.db)) throw new Error(`--db must be pglite, postgres or both\n${USAGE}`);
  return {
    messages: count('messages', values.messages),
    recipients: count('recipients', values.recipients),
    databases: values.db === 'both' ? ['pglite', 'postgres'] : [values.db as DatabaseKind],
  };
}
