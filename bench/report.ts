import type { SuiteResult } from './suite.js';

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

const everyArrivedOnce = (r: SuiteResult) => [r.baseline, r.pipeline, r.fanOut, r.halt, r.haltAtScale].every((scenario) => scenario.arrivedOnce);

const ROWS: Row[] = [
  { label: 'baseline: raw nodemailer pool', target: '', value: (r) => `${rate(r.baseline.perSecond)} (${r.baseline.messages} in ${s(r.baseline.seconds)})` },
  { label: 'pipeline throughput', target: '', value: (r) => `${rate(r.pipeline.perSecond)} (${r.pipeline.messages} in ${s(r.pipeline.seconds)})` },
  {
    label: 'pipeline / baseline',
    target: '>= 0.80 on PostgreSQL',
    value: (r) => r.pipeline.ratioToBaseline.toFixed(2),
    met: (r) => (r.database === 'postgres' ? r.pipeline.ratioToBaseline >= 0.8 : undefined),
  },
  { label: 'pipeline: ledger all final', target: '', value: (r) => s(r.pipeline.ledgerDoneSeconds) },
  { label: 'fan-out: ledger holds all rows', target: '< 15 s', value: (r) => `${s(r.fanOut.ledgerFullSeconds)} (${r.fanOut.recipients})`, met: (r) => r.fanOut.ledgerFullSeconds < 15 },
  { label: 'fan-out: first message at sink', target: '< 2 s', value: (r) => s(r.fanOut.firstMessageSeconds), met: (r) => r.fanOut.firstMessageSeconds < 2 },
  { label: 'fan-out: all sent', target: '', value: (r) => `${s(r.fanOut.allSentSeconds)} (${rate(r.fanOut.recipients / r.fanOut.allSentSeconds)})` },
  { label: 'fan-out: peak process RSS', target: '< 400 MB', value: (r) => mb(r.fanOut.peakRssMb), met: (r) => r.fanOut.peakRssMb < 400 },
  { label: '  peak off-heap (PGlite: its WASM memory)', target: '', value: (r) => mb(r.fanOut.peakExternalMb) },
  { label: '  V8 heap limit of the process', target: '', value: (r) => mb(r.heapLimitMb) },
  {
    label: 'fan-out: peak Redis (delta)',
    target: '< 100 MB (delta)',
    value: (r) => `${mb(r.fanOut.peakRedisMb)} (+${r.fanOut.redisDeltaMb.toFixed(1)} MB)`,
    met: (r) => r.fanOut.redisDeltaMb < 100,
  },
  { label: 'halt a quarter into the send', target: '< 250 ms', value: (r) => `${r.halt.haltMs.toFixed(0)} ms`, met: (r) => r.halt.haltMs < 250 },
  {
    label: '  arrived after / in flight',
    target: 'after <= in flight',
    value: (r) => `${r.halt.arrivedAfterHalt} / ${r.halt.inFlight} (${r.halt.stopped} stopped)`,
    met: (r) => r.halt.withinInFlight,
  },
  { label: 'halt early in the fan-out send', target: '< 250 ms', value: (r) => `${r.haltAtScale.haltMs.toFixed(0)} ms`, met: (r) => r.haltAtScale.haltMs < 250 },
  {
    label: '  arrived after / in flight',
    target: 'after <= in flight',
    value: (r) => `${r.haltAtScale.arrivedAfterHalt} / ${r.haltAtScale.inFlight} (${r.haltAtScale.stopped} stopped)`,
    met: (r) => r.haltAtScale.withinInFlight,
  },
  { label: 'correction audience built', target: '< 3 s', value: (r) => `${s(r.correction.seconds)} (${r.correction.audience})`, met: (r) => r.correction.seconds < 3 },
  {
    label: 'every message arrived once',
    target: 'yes',
    value: (r) => (everyArrivedOnce(r) ? 'yes' : 'NO'),
    met: everyArrivedOnce,
  },
];

/** One row per figure, one column per database; each figure with a target says whether it met it. */
export function formatTable(results: SuiteResult[]): string {
  const header = ['', 'target', ...results.map((r) => r.database)];
  const body = ROWS.map((row) => [
    row.label,
    row.target,
    ...results.map((r) => {
      const met = row.met?.(r);
      return met === undefined ? row.value(r) : `${row.value(r)} ${met ? 'ok' : 'MISSED'}`;
    }),
  ]);
  const widths = header.map((_, i) => Math.max(...[header, ...body].map((cells) => cells[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, i) => cell.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...body.map(line)].join('\n');
}
