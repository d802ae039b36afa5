import type { DeliveryBreakdown, ProgressSegmentKey } from '../../domain/delivery-progress.js';
import { html, type SafeHtml } from './html.js';

/** Parts shown in the legend even at zero: what a person looks for first. */
const ALWAYS_LISTED: readonly ProgressSegmentKey[] = ['sent', 'failed', 'stopped', 'inFlight', 'waiting'];

/**
 * The stacked bar: each part its own colour and width (set from data-percent by app.js, as the
 * Content-Security-Policy refuses style attributes). What is waiting is the empty track; the sent
 * part is always there, at zero width before anything is sent.
 */
export function progressBar(breakdown: DeliveryBreakdown, options: { ids?: boolean } = {}): SafeHtml {
  return html`<div class="progress" role="progressbar" aria-label="Delivery progress" aria-valuenow="${breakdown.percentSent}" aria-valuemin="0" aria-valuemax="100" aria-valuetext="${breakdown.summary}">${breakdown.segments
    .filter((s) => s.key === 'sent' || (s.key !== 'waiting' && s.count > 0))
    .map(
      (s) =>
        html`<span class="seg ${s.key}"${options.ids && s.key === 'sent' ? html` id="progress-bar"` : ''} data-segment="${s.key}" data-percent="${s.percent}" title="${s.count.toLocaleString('en-US')} ${s.label}"></span>`,
    )}</div>`;
}

/** The bar with its legend and the sentence that says it in words, for the campaign page. */
export function progressPanel(breakdown: DeliveryBreakdown): SafeHtml {
  const listed = breakdown.segments.filter((s) => ALWAYS_LISTED.includes(s.key) || s.count > 0);
  return html`
<ul class="legend" data-testid="delivery-legend">${listed.map(
    (s) =>
      html`<li><span class="swatch ${s.key}" aria-hidden="true"></span><strong data-count="${s.key}">${s.count.toLocaleString('en-US')}</strong> ${s.label}</li>`,
  )}</ul>
${progressBar(breakdown, { ids: true })}
<p><strong id="progress-percent" data-testid="progress-percent">${breakdown.percentSent}%</strong> sent. <span data-testid="progress-summary">${breakdown.summary}</span></p>`;
}
