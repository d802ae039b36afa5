import type { CampaignStatus } from './campaign-state.js';
import type { DeliveryCounts } from './delivery.js';

/** The parts a send's progress bar shows, in the order they are drawn. */
export const PROGRESS_SEGMENTS = ['sent', 'failed', 'unknown', 'stopped', 'skipped', 'inFlight', 'waiting'] as const;
export type ProgressSegmentKey = (typeof PROGRESS_SEGMENTS)[number];

const LABELS: Record<ProgressSegmentKey, string> = {
  sent: 'sent',
  failed: 'failed',
  unknown: 'unknown (may have arrived)',
  stopped: 'stopped by the halt',
  skipped: 'skipped (suppressed)',
  inFlight: 'in flight',
  waiting: 'waiting',
};

export interface ProgressSegment {
  key: ProgressSegmentKey;
  label: string;
  count: number;
  /** Share of the audience, to one decimal: the bar's width for this part. */
  percent: number;
}

export interface DeliveryBreakdown {
  total: number;
  segments: ProgressSegment[];
  /** Whole percent of the audience the server accepted a message for: only `sent` counts. */
  percentSent: number;
  /** One sentence a person reads instead of the bar. */
  summary: string;
}

const number = (n: number) => n.toLocaleString('en-US');

/**
 * What happened to each recipient, as separate parts: a halted row is stopped, never "done".
 * Snapshot recipients with no ledger row yet are waiting, or stopped once the campaign is
 * halted (the halt's clean-up adds them as halted). `counts` are as `countsAsLedgerSays` reads them.
 */
export function deliveryBreakdown(counts: DeliveryCounts, recipientCount: number, status: CampaignStatus): DeliveryBreakdown {
  const inLedger = Object.values(counts).reduce((sum, n) => sum + n, 0);
  // A correction's late joiners come after its snapshot: the audience is whichever is larger.
  const total = Math.max(recipientCount, inLedger);
  const notCopied = total - inLedger;
  const stoppedForGood = status === 'halted' || status === 'cancelled';
  const values: Record<ProgressSegmentKey, number> = {
    sent: counts.sent,
    failed: counts.failed,
    unknown: counts.unknown,
    stopped: counts.halted + (stoppedForGood ? notCopied + counts.queued : 0),
    skipped: counts.skipped,
    inFlight: counts.sending,
    waiting: stoppedForGood ? 0 : counts.queued + notCopied,
  };
  const segments = PROGRESS_SEGMENTS.map((key) => ({
    key,
    label: LABELS[key],
    count: values[key],
    percent: total > 0 ? Math.round((values[key] / total) * 1000) / 10 : 0,
  }));
  return {
    total,
    segments,
    percentSent: total > 0 ? Math.floor((counts.sent / total) * 100) : 0,
    summary: summarise(segments, total, status),
  };
}

function summarise(segments: ProgressSegment[], total: number, status: CampaignStatus): string {
  if (total === 0) return 'No recipients yet: the audience is frozen when the campaign is submitted.';
  if (segments.find((s) => s.key === 'waiting')!.count === total) return `Nothing sent yet: ${number(total)} waiting.`;
  const sent = segments.find((s) => s.key === 'sent')!.count;
  const others = segments.filter((s) => s.key !== 'sent' && s.count > 0).map((s) => `${number(s.count)} ${s.label}`);
  const lead = `${status === 'halted' ? 'Halted: ' : ''}${number(sent)} of ${number(total)} sent${status === 'sending' ? ' so far' : ''}`;
  return `${lead}${others.length ? `; ${others.join(', ')}` : ''}.`;
}
