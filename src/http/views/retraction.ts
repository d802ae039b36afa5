import type { DryRunOutcome, RetractionItemStatus, RetractionStatus } from '../../domain/retraction.js';
import type { RetractionReport } from '../../services/retraction.js';
import { html, type SafeHtml } from './html.js';

/** A retraction's counts, as the campaign page and the correction's approval page show them. */

const STATUS_LABELS: Record<RetractionStatus, string> = {
  checking: 'dry run under way',
  pending_approval: 'waiting for approval',
  running: 'removing',
  halted: 'halted',
  done: 'done',
};
const DRY_RUN_LABELS: Record<DryRunOutcome, string> = {
  would_remove: 'Would remove',
  not_found: 'Not found',
  already_deleted: 'Already deleted',
  failed: 'Could not check',
  not_retractable: 'Not retractable',
};
const ITEM_LABELS: Record<RetractionItemStatus, string> = {
  pending: 'Waiting',
  working: 'In progress',
  removed: 'Removed',
  not_found: 'Not found',
  already_deleted: 'Already deleted',
  failed: 'Failed',
  not_retractable: 'Not retractable',
  halted: 'Halted',
};

export const retractionStatusLabel = (status: RetractionStatus) => STATUS_LABELS[status];

function countRows<K extends string>(group: 'dryRun' | 'outcomes', labels: Record<K, string>, counts: Record<K, number>): SafeHtml[] {
  return (Object.keys(labels) as K[]).map(
    (k) =>
      html`<tr><th scope="row">${labels[k]}</th><td data-retraction-count="${group}.${k}">${counts[k].toLocaleString('en-US')}</td></tr>`,
  );
}

/** What the dry run found, per outcome: what approvers decide on. */
export function dryRunTable(r: RetractionReport): SafeHtml {
  return html`<table class="grid"><caption>Dry run</caption><tbody>${countRows('dryRun', DRY_RUN_LABELS, r.dryRun)}</tbody></table>`;
}

export function outcomesTable(r: RetractionReport): SafeHtml {
  return html`<table class="grid"><caption>Each mailbox</caption><tbody>${countRows('outcomes', ITEM_LABELS, r.outcomes)}</tbody></table>`;
}
