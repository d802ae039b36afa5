import type { MachineCpu } from './machine-cpu.js';
import type { ScaleResult } from './scale.js';
import type { SplitResult } from './split.js';
import type { PoolResult, SuiteResult } from './suite.js';

interface Row {
  label: string;
  target: string;
  value(result: SuiteResult): string;
  /** Undefined where the issue sets no target for this figure (or not on this database). */
  met?(result: SuiteResult): boolean | undefined;
}

const s = (seconds: number) => `${seconds.toFixed(2)} s`;
const rate = (perSecond: number) => `${Math.round(perSecond)} msg/s`;
const mb = (value: number) => `${value.toFixed(0)} MB`;
const cpu = (ms: number) => `${ms.toFixed(2)} ms CPU/msg`;
const machine = (m: MachineCpu) => [m.process, m.sink, m.postgres, m.redis, m.other, m.idle].map((ms) => ms.toFixed(2)).join(' / ');

const everyArrivedOnce = (r: SuiteResult) =>
  [...r.pools.flatMap((p) => [p.baseline, p.pipeline]), r.fanOut, r.halt, r.haltAtScale].every((scenario) => scenario.arrivedOnce);

/** The throughput targets hold at pools of 10 and more. */
const THROUGHPUT_FROM_POOL = 10;
const THROUGHPUT_TARGET = { postgres: 0.9, pglite: 0.75 } as const;
const CPU_TARGET_POSTGRES = 1.3;

function poolRows(pool: number): Row[] {
  const at = (r: SuiteResult): PoolResult | undefined => r.pools.find((p) => p.pool === pool);
  const or = (r: SuiteResult, value: (p: PoolResult) => string) => {
    const p = at(r);
    return p ? value(p) : '-';
  };
  const targeted = pool >= THROUGHPUT_FROM_POOL;
  return [
    {
      label: `pool ${pool}: raw nodemailer (before / after)`,
      target: '',
      value: (r) =>
        or(
          r,
          (p) =>
            `${rate(p.baseline.perSecond)} (${p.baseline.runs.map((run) => Math.round(run.perSecond)).join(' / ')}), ${cpu(p.baseline.cpuMsPerMessage)}`,
        ),
    },
    {
      label: `pool ${pool}: pipeline`,
      target: '',
      value: (r) => or(r, (p) => `${rate(p.pipeline.perSecond)}, ${cpu(p.pipeline.cpuMsPerMessage)}`),
    },
    {
      label: `pool ${pool}: pipeline / raw, rate`,
      target: targeted ? '>= 0.90 PG, >= 0.75 PGlite' : '',
      value: (r) => or(r, (p) => p.pipeline.ratioToBaseline.toFixed(2)),
      met: (r) => (targeted && at(r) ? at(r)!.pipeline.ratioToBaseline >= THROUGHPUT_TARGET[r.database] : undefined),
    },
    {
      label: `pool ${pool}: pipeline / raw, CPU per msg`,
      target: '<= 1.30 on PostgreSQL',
      value: (r) => or(r, (p) => p.pipeline.cpuRatioToBaseline.toFixed(2)),
      met: (r) => (r.database === 'postgres' && at(r) ? at(r)!.pipeline.cpuRatioToBaseline <= CPU_TARGET_POSTGRES : undefined),
    },
    {
      label: `  machine, raw: process / sink / PG / Redis / rest / idle`,
      target: 'ms per msg',
      value: (r) => or(r, (p) => machine(p.baseline.machineCpu)),
    },
    {
      label: `  machine, pipeline: the same`,
      target: 'ms per msg',
      value: (r) => or(r, (p) => machine(p.pipeline.machineCpu)),
    },
  ];
}

const SCALE_ROWS: Row[] = [
  {
    label: 'fan-out: ledger holds all rows',
    target: '< 15 s',
    value: (r) => `${s(r.fanOut.ledgerFullSeconds)} (${r.fanOut.recipients})`,
    met: (r) => r.fanOut.ledgerFullSeconds < 15,
  },
  {
    label: 'fan-out: first message at sink',
    target: '< 2 s',
    value: (r) => s(r.fanOut.firstMessageSeconds),
    met: (r) => r.fanOut.firstMessageSeconds < 2,
  },
  {
    label: 'fan-out: all sent',
    target: '',
    value: (r) => `${s(r.fanOut.allSentSeconds)} (${rate(r.fanOut.recipients / r.fanOut.allSentSeconds)})`,
  },
  {
    label: 'fan-out rate / pipeline rate, same pool',
    target: '>= 0.90',
    value: (r) => r.fanOut.rateRatioToPipeline.toFixed(2),
    met: (r) => r.fanOut.rateRatioToPipeline >= 0.9,
  },
  { label: 'fan-out: peak process RSS', target: '< 400 MB', value: (r) => mb(r.fanOut.peakRssMb), met: (r) => r.fanOut.peakRssMb < 400 },
  { label: '  peak off-heap (PGlite: its WASM memory)', target: '', value: (r) => mb(r.fanOut.peakExternalMb) },
  { label: '  V8 heap limit of the process', target: '', value: (r) => mb(r.heapLimitMb) },
  {
    label: 'fan-out: peak Redis (delta)',
    target: '< 100 MB (delta)',
    value: (r) => `${mb(r.fanOut.peakRedisMb)} (+${r.fanOut.redisDeltaMb.toFixed(1)} MB)`,
    met: (r) => r.fanOut.redisDeltaMb < 100,
  },
  {
    label: 'halt a quarter into the send',
    target: '< 250 ms',
    value: (r) => `${r.halt.haltMs.toFixed(0)} ms`,
    met: (r) => r.halt.haltMs < 250,
  },
  {
    label: '  arrived after / in flight',
    target: 'after <= in flight',
    value: (r) => `${r.halt.arrivedAfterHalt} / ${r.halt.inFlight} (${r.halt.stopped} stopped)`,
    met: (r) => r.halt.withinInFlight,
  },
  {
    label: 'halt early in the fan-out send',
    target: '< 250 ms',
    value: (r) => `${r.haltAtScale.haltMs.toFixed(0)} ms`,
    met: (r) => r.haltAtScale.haltMs < 250,
  },
  {
    label: '  arrived after / in flight',
    target: 'after <= in flight',
    value: (r) => `${r.haltAtScale.arrivedAfterHalt} / ${r.haltAtScale.inFlight} (${r.haltAtScale.stopped} stopped)`,
    met: (r) => r.haltAtScale.withinInFlight,
  },
  {
    label: 'correction audience built',
    target: '< 3 s',
    value: (r) => `${s(r.correction.seconds)} (${r.correction.audience})`,
    met: (r) => r.correction.seconds < 3,
  },
  {
    label: 'every message arrived once',
    target: 'yes',
    value: (r) => (everyArrivedOnce(r) ? 'yes' : 'NO'),
    met: everyArrivedOnce,
  },
];

/** Rows of cells as a Markdown table, padded to line up. */
export function markdownTable(header: string[], body: string[][]): string {
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}

/** One row per figure, one column per database; each figure with a target says whether it met it. */
export function formatTable(results: SuiteResult[]): string {
  const pools = [...new Set(results.flatMap((r) => r.pools.map((p) => p.pool)))].sort((a, b) => a - b);
  const scalePools = [...new Set(results.map((r) => r.scalePool))];
  const rows = [
    ...pools.flatMap(poolRows),
    ...SCALE_ROWS.map((row) => ({ ...row, label: row.label.startsWith(' ') ? row.label : `${row.label} (pool ${scalePools.join('/')})` })),
  ];
  const body = rows.map((row) => [
    row.label,
    row.target,
    ...results.map((r) => {
      const met = row.met?.(r);
      return met === undefined ? row.value(r) : `${row.value(r)} ${met ? 'ok' : 'MISSED'}`;
    }),
  ]);
  return markdownTable(['', 'target', ...results.map((r) => r.database)], body);
}

/** One row per worker process count of the split shape. */
export function formatSplit(results: SplitResult[]): string {
  const header = [
    'worker processes',
    'SMTP connections',
    'throughput',
    'rate limit held (within 5 %)',
    'halt',
    'after / in flight',
    'peak RSS: API, workers',
    'kill -9 of a worker: takeover, finished',
    'arrived once',
  ];
  const body = results.map((r) => [
    String(r.workers),
    String(r.connections),
    rate(r.throughput.perSecond),
    `${rate(r.limited.perSecond)} at ${r.limited.limit}: ${r.limited.held ? 'held' : 'EXCEEDED'}${r.limited.reached ? '' : ', not reached'}`,
    `${r.halt.haltMs.toFixed(0)} ms ${r.halt.haltMs < 250 ? 'ok' : 'MISSED'}`,
    `${r.halt.arrivedAfterHalt} / ${r.halt.inFlight} ${r.halt.withinInFlight ? 'ok' : 'MISSED'}`,
    `${r.peakRssMb.api === null ? '-' : mb(r.peakRssMb.api)}, ${r.peakRssMb.workers.map((w) => (w === null ? '-' : mb(w))).join(' / ')}`,
    `${(r.death.takeoverMs / 1000).toFixed(1)} s ${r.death.takeoverMs <= 15_000 ? 'ok' : 'MISSED'} (${r.death.reservedAtKill} reserved at the kill), ${(r.death.finishedMs / 1000).toFixed(1)} s`,
    r.throughput.arrivedOnce && r.limited.arrivedOnce && r.halt.arrivedOnce && r.death.arrivedOnce ? 'yes' : 'NO',
  ]);
  return markdownTable(header, body);
}

/** One column per big run: its figures against the targets. */
export function formatScale(results: ScaleResult[]): string {
  const rows: [string, string, (r: ScaleResult) => string][] = [
    ['CSV import through the API', '', (r) => `${s(r.importSeconds)} (${r.recipients} rows)`],
    ['freeze (submit)', '', (r) => s(r.freezeSeconds)],
    ['fan-out: ledger holds all rows', '', (r) => s(r.fanOutSeconds)],
    ['first message at sink', '< 2 s', (r) => `${s(r.firstMessageSeconds)} ${r.firstMessageSeconds < 2 ? 'ok' : 'MISSED'}`],
    ['send rate (up to the halt, if any)', '', (r) => rate(r.sendPerSecond)],
    [
      'halt',
      '< 250 ms',
      (r) =>
        r.halt
          ? `${r.halt.ms.toFixed(0)} ms ${r.halt.ms < 250 ? 'ok' : 'MISSED'} (${r.halt.stopped} queued stopped, ${r.halt.inFlight} in flight)`
          : 'none: sent to all',
    ],
    [
      'correction audience built (recall)',
      '< 10 s',
      (r) => `${s(r.correction.seconds)} ${r.correction.seconds < 10 ? 'ok' : 'MISSED'} (${r.correction.audience})`,
    ],
    [
      'peak RSS per process',
      '<= 400 MB',
      (r) =>
        Object.entries(r.peakRssMb)
          .map(([name, value]) => `${name} ${value === null ? '-' : mb(value)}${value !== null && value > 400 ? ' MISSED' : ''}`)
          .join(', '),
    ],
    ['peak Redis (delta)', '', (r) => `${mb(r.peakRedisMb)} (+${r.redisDeltaMb.toFixed(1)} MB)`],
    ['database size', '', (r) => mb(r.databaseMb)],
  ];
  return markdownTable(
    ['', 'target', ...results.map((r) => `${r.database}, ${r.shape}`)],
    rows.map(([label, target, value]) => [label, target, ...results.map(value)]),
  );
}
