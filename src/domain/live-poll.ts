import type { CampaignStatus } from './campaign-state.js';

/** Rows of ledger an open page may re-read each second; a larger send is polled less often. */
const ROWS_PER_SECOND_OF_POLLING = 25_000;
const LONGEST_POLL_MS = 10_000;

/**
 * How soon an open campaign page asks again: every second while something can happen any
 * moment, less often for a draft or a halted campaign, which change only when someone acts, and
 * never once it is sent or cancelled with nothing in flight. Each poll re-reads the ledger's counts
 * and chart (about half a second for 200,000 rows on PostgreSQL), so a large ledger is polled
 * less often: one more second per 25,000 rows, up to ten.
 */
export function livePollMs(status: CampaignStatus, inFlight: number, ledgerRows: number): number | null {
  const active = inFlight > 0 || status === 'pending_approval' || status === 'scheduled' || status === 'sending';
  if (!active && status !== 'draft' && status !== 'halted') return null;
  const base = active ? 1000 : 5000;
  return Math.min(LONGEST_POLL_MS, Math.max(base, Math.ceil(ledgerRows / ROWS_PER_SECOND_OF_POLLING) * 1000));
}
