import { DELIVERY_STATUSES } from '../../domain/delivery.js';
import type { DeliveriesPageModel, DeliveriesPageQuery } from '../../services/ledger.js';
import { html, localTime, page, type Chrome, type SafeHtml } from './html.js';

const STATUS_WORDS: Record<(typeof DELIVERY_STATUSES)[number], string> = {
  queued: 'waiting',
  sending: 'in flight',
  sent: 'sent',
  failed: 'failed',
  halted: 'stopped by the halt',
  skipped: 'skipped (suppressed)',
  unknown: 'unknown (may have arrived)',
};

function href(base: string, query: Partial<DeliveriesPageQuery>): string {
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.status) params.set('status', query.status);
  if (query.after) params.set('after', String(query.after));
  const search = params.toString();
  return search ? `${base}?${search}` : base;
}

function emptyState(model: DeliveriesPageModel, base: string): SafeHtml {
  const { query } = model;
  if (query.q || query.status)
    return html`<p class="empty" data-testid="empty-state">No deliveries match${query.q ? html` “${query.q}”` : ''}${query.status ? ` with the status ${STATUS_WORDS[query.status]}` : ''}. <a href="${base}">Clear the search</a> to see every recipient.</p>`;
  if (query.after)
    return html`<p class="empty" data-testid="empty-state">No more deliveries after this point. <a href="${base}">Back to the first page</a>.</p>`;
  return html`<p class="empty" data-testid="empty-state">Nothing has been handed over yet: the ledger fills in as the campaign sends. <a href="/campaigns/${model.campaign.id}">Back to the campaign</a> to see when it goes.</p>`;
}

/** Every recipient's delivery of one campaign: searchable by address, filtered by status, paged by position. */
export function deliveriesPage(model: DeliveriesPageModel, chrome: Chrome): string {
  const { campaign, query, counts } = model;
  const base = `/campaigns/${campaign.id}/deliveries`;
  const option = (value: string, label: string) =>
    html`<option value="${value}"${value === (query.status ?? '') ? ' selected' : ''}>${label}</option>`;
  return page(
    `Deliveries of ${campaign.subject}`,
    html`
<p><a href="/campaigns/${campaign.id}">← ${campaign.subject}</a></p>
<h1>Deliveries</h1>
<form method="get" action="${base}" class="filters" role="search" aria-label="Find deliveries">
  <div><label for="q">Address contains</label><input id="q" name="q" type="search" value="${query.q}"></div>
  <div><label for="status">Status</label><select id="status" name="status">${option('', 'Any status')}${DELIVERY_STATUSES.map((s) => option(s, `${STATUS_WORDS[s]} (${counts[s].toLocaleString('en-US')})`))}</select></div>
  <div class="filter-actions"><button type="submit">Find</button>${query.q || query.status ? html` <a href="${base}">Clear</a>` : ''}</div>
</form>
<p><a href="${href(`/campaigns/${campaign.id}/deliveries.csv`, { q: query.q, status: query.status })}" download data-testid="csv-link">Download ${query.q || query.status ? 'these deliveries' : 'the whole ledger'} (CSV)</a></p>
${
  model.rows.length === 0
    ? emptyState(model, base)
    : html`<div class="scroll"><table class="grid stack" data-testid="deliveries">
  <thead><tr><th scope="col">#</th><th scope="col">Recipient</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Mail server’s answer</th><th scope="col">Finished</th></tr></thead>
  <tbody>${model.rows.map(
    (row) =>
      html`<tr><td data-label="#">${row.seq}</td><td data-label="Recipient">${row.name ? html`${row.name} ` : ''}&lt;${row.email}&gt;</td><td data-label="Status"><span class="badge ${row.status}">${STATUS_WORDS[row.status]}</span></td><td data-label="Attempts">${row.attempts}</td><td data-label="Answer"><code>${row.smtpResponse ?? ''}</code></td><td data-label="Finished">${row.finishedAt ? localTime(row.finishedAt) : '—'}</td></tr>`,
  )}</tbody>
</table></div>`
}
<nav class="paging" aria-label="Pages of deliveries">
  ${query.after ? html`<a href="${href(base, { q: query.q, status: query.status })}">← First page</a>` : ''}
  ${model.next !== null ? html`<a href="${href(base, { q: query.q, status: query.status, after: model.next })}" rel="next">Next ${model.rows.length} →</a>` : ''}
</nav>`,
    { ...chrome, current: 'campaigns' },
  );
}
