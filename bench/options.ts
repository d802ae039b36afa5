import { parseArgs } from 'node:util';
import type { DatabaseKind } from './database.js';

export interface BenchOptions {
  messages: number;
  recipients: number;
  databases: DatabaseKind[];
  /** SMTP pool sizes the baseline and the pipeline are measured at. */
  pools: number[];
  /** The pool the fan-out, halts and correction run at. */
  scalePool: number;
  /** The sink writes each message to disk before accepting it (as a relay does), or only counts. */
  sink: 'disk' | 'count';
  /** Profile the pipeline at the scale pool and summarise where its time went. */
  profile: boolean;
  /** Worker process counts of the split shape on PostgreSQL; empty skips it. */
  workers: number[];
  /** Messages each split-shape run sends. */
  splitMessages: number;
  /** The global rate limit (SEND_RATE_PER_SECOND) of the split shape's rate-limited run. */
  splitRate: number;
  /** Instead of the suite: one big send of this many recipients through the API (see bench/scale.ts). */
  scale: { recipients: number; shape: 'all' | number; haltAt: number | null } | null;
}

const USAGE = `usage: npm run bench -- [--messages N] [--recipients N] [--db pglite|postgres|both] [--pools 5,10,20] [--scale-pool 10]
                      [--sink disk|count] [--profile] [--workers 1,2,4|none] [--split-messages N] [--split-rate N]
       npm run bench -- --scale N [--db ...] [--scale-shape all|WORKERS] [--scale-halt SHARE|none] [--scale-pool 10] [--sink disk|count]`;

/** Defaults finish in about ten minutes on an idle 2-core machine. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      messages: { type: 'string', default: '20000' },
      recipients: { type: 'string', default: '100000' },
      db: { type: 'string', default: 'both' },
      pools: { type: 'string', default: '5,10,20' },
      'scale-pool': { type: 'string', default: '10' },
      sink: { type: 'string', default: 'disk' },
      profile: { type: 'boolean', default: false },
      workers: { type: 'string', default: '1,2,4' },
      'split-messages': { type: 'string', default: '6000' },
      'split-rate': { type: 'string', default: '500' },
      scale: { type: 'string' },
      'scale-shape': { type: 'string', default: 'all' },
      'scale-halt': { type: 'string', default: '0.1' },
    },
  });
  const count = (name: string, raw: string, least = 4) => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < least) throw new Error(`--${name} must be a whole number of at least ${least}\n${USAGE}`);
    return n;
  };
  const counts = (name: string, raw: string) => raw.split(',').map((item) => count(name, item.trim(), 1));
  if (!['pglite', 'postgres', 'both'].includes(values.db)) throw new Error(`--db must be pglite, postgres or both\n${USAGE}`);
  if (!['disk', 'count'].includes(values.sink)) throw new Error(`--sink must be disk or count\n${USAGE}`);
  const databases: DatabaseKind[] = values.db === 'both' ? ['pglite', 'postgres'] : [values.db as DatabaseKind];
  const shape = values['scale-shape'] === 'all' ? 'all' : count('scale-shape', values['scale-shape'], 1);
  const haltAt = values['scale-halt'] === 'none' ? null : Number(values['scale-halt']);
  if (haltAt !== null && !(haltAt > 0 && haltAt < 1)) throw new Error(`--scale-halt must be a share between 0 and 1, or none\n${USAGE}`);
  if (values.scale && shape !== 'all' && databases.includes('pglite'))
    throw new Error(`--scale-shape with worker processes needs --db postgres\n${USAGE}`);
  return {
    messages: count('messages', values.messages),
    recipients: count('recipients', values.recipients),
    databases,
    pools: counts('pools', values.pools),
    scalePool: count('scale-pool', values['scale-pool'], 1),
    sink: values.sink as 'disk' | 'count',
    profile: values.profile,
    // The split shape needs PostgreSQL: the embedded database allows one process.
    workers: values.workers === 'none' || !databases.includes('postgres') ? [] : counts('workers', values.workers),
    splitMessages: count('split-messages', values['split-messages']),
    splitRate: count('split-rate', values['split-rate'], 1),
    scale: values.scale ? { recipients: count('scale', values.scale), shape, haltAt } : null,
  };
}
