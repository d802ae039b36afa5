import type { DeliveryTimeline } from '../../services/campaign-pages.js';
import { html, type SafeHtml } from './html.js';

const WIDTH = 640;
const HEIGHT = 180;
const PLOT = { left: 56, right: 8, top: 12, bottom: 28 };
const STACK = ['sent', 'failed', 'unknown'] as const;

const clock = (date: Date, withSeconds: boolean) => date.toISOString().slice(11, withSeconds ? 19 : 16);

/**
 * A time of day the page's script rewrites in the reader's zone (`data-zone`: naming it;
 * `data-after`: text that follows it); without the script it reads in UTC, and says so.
 */
const clockAttributes = (date: Date, withSeconds: boolean, zone: boolean, after = '') =>
  html`data-clock="${date.toISOString()}" data-seconds="${String(withSeconds)}"${zone ? html` data-zone` : html``}${after ? html` data-after="${after}"` : html``}`;

/**
 * Deliveries over time as an SVG drawn on the server: one stacked bar per bucket (sent, failed,
 * unknown), a scale, and a caption with the totals. No script or style attribute is needed.
 */
export function progressChart(timeline: DeliveryTimeline | null): SafeHtml {
  if (!timeline)
    return html`<p class="muted" data-testid="delivery-chart-empty">The chart of deliveries over time appears once the first message is handed over.</p>`;
  const { buckets, totals, bucketSeconds } = timeline;
  const peak = Math.max(1, ...buckets.map((b) => b.sent + b.failed + b.unknown));
  const plotWidth = WIDTH - PLOT.left - PLOT.right;
  const plotHeight = HEIGHT - PLOT.top - PLOT.bottom;
  const slot = plotWidth / buckets.length;
  const barWidth = Math.max(1, slot * 0.8);
  const y = (n: number) => (n / peak) * plotHeight;
  const seconds = bucketSeconds < 60;
  const first = buckets[0]!.start;
  const last = buckets.at(-1)!.start;
  const bars = buckets.map((bucket, i) => {
    let base = PLOT.top + plotHeight;
    const x = PLOT.left + i * slot + (slot - barWidth) / 2;
    const total = bucket.sent + bucket.failed + bucket.unknown;
    const counts = `${bucket.sent} sent, ${bucket.failed} failed, ${bucket.unknown} unknown`;
    const parts = STACK.filter((status) => bucket[status] > 0).map((status) => {
      const height = y(bucket[status]);
      base -= height;
      return html`<rect class="${status}" x="${x.toFixed(1)}" y="${base.toFixed(1)}" width="${barWidth.toFixed(1)}" height="${height.toFixed(1)}"></rect>`;
    });
    return html`<g data-bucket="${bucket.start.toISOString()}" data-sent="${bucket.sent}" data-failed="${bucket.failed}" data-unknown="${bucket.unknown}"><title ${clockAttributes(bucket.start, seconds, true, `: ${counts}`)}>${clock(bucket.start, seconds)} UTC: ${counts}</title>${total ? parts : ''}</g>`;
  });
  const caption = html`${totals.sent.toLocaleString('en-US')} sent, ${totals.failed.toLocaleString('en-US')} failed, ${totals.unknown.toLocaleString('en-US')} unknown, ${timeline.bucketLabel}, from <time ${clockAttributes(first, seconds, false)}>${clock(first, seconds)}</time> to <time ${clockAttributes(last, seconds, true)}>${clock(last, seconds)} UTC</time>`;
  return html`<figure class="chart" data-testid="delivery-chart" data-total-sent="${totals.sent}" data-total-failed="${totals.failed}" data-total-unknown="${totals.unknown}">
<svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-labelledby="chart-caption">
<line class="axis" x1="${PLOT.left}" y1="${PLOT.top + plotHeight}" x2="${WIDTH - PLOT.right}" y2="${PLOT.top + plotHeight}"></line>
<text class="tick" x="${PLOT.left - 6}" y="${PLOT.top + 10}" text-anchor="end">${peak}</text>
<text class="tick" x="${PLOT.left - 6}" y="${PLOT.top + plotHeight}" text-anchor="end">0</text>
<text class="tick" x="${PLOT.left}" y="${HEIGHT - 8}" ${clockAttributes(first, seconds, false)}>${clock(first, seconds)}</text>
<text class="tick" x="${WIDTH - PLOT.right}" y="${HEIGHT - 8}" text-anchor="end" ${clockAttributes(last, seconds, true)}>${clock(last, seconds)} UTC</text>
${bars}
</svg>
<figcaption id="chart-caption">Deliveries over time: ${caption}.</figcaption>
</figure>`;
}
