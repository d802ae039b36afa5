import { CAMPAIGN_STATUSES, type CampaignStatus } from '../../domain/campaign-state.js';
import type {
  CampaignListModel,
  CampaignListQuery,
  CampaignLiveModel,
  CampaignPageModel,
  RecallPageModel,
} from '../../services/campaign-pages.js';
import { auditTrail } from './audit.js';
import { progressBar, progressPanel } from './delivery-progress.js';
import { csrfField, html, page, type Chrome, type SafeHtml } from './html.js';
import { progressChart } from './progress-chart.js';
import { dryRunTable, outcomesTable, retractionStatusLabel } from './retraction.js';

const statusLabel = (status: string) => status.replace('_', ' ');
const badge = (status: string) => html`<span class="badge ${status}">${statusLabel(status)}</span>`;
const when = (date: Date | null | undefined) =>
  date ? html`<time datetime="${date.toISOString()}" data-local>${date.toUTCString()}</time>` : html`—`;

const STATUS_CHOICES: { value: CampaignStatus; label: string }[] = CAMPAIGN_STATUSES.map((value) => ({ value, label: statusLabel(value) }));

/** The list's address with one thing changed: a filter, or the page. */
function listHref(query: CampaignListQuery, change: Partial<CampaignListQuery>): string {
  const merged = { ...query, ...change };
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(merged))
    if (value !== undefined && value !== '' && !(key === 'page' && value === 1)) params.set(key, String(value));
  const search = params.toString();
  return search ? `/?${search}` : '/';
}

function listFilters(model: CampaignListModel): SafeHtml {
  const { query } = model;
  const option = (value: string, label: string, current: string | undefined) =>
    html`<option value="${value}"${value === (current ?? '') ? ' selected' : ''}>${label}</option>`;
  return html`<form method="get" action="/" class="filters" role="search" aria-label="Find campaigns">
  <div><label for="q">Subject contains</label><input id="q" name="q" type="search" value="${query.q}"></div>
  <div><label for="status">Status</label><select id="status" name="status">${option('', 'Any status', query.status)}${STATUS_CHOICES.map((s) => option(s.value, s.label, query.status))}</select></div>
  <div><label for="kind">Kind</label><select id="kind" name="kind">${option('', 'Originals and corrections', query.kind)}${option('policy', 'Originals', query.kind)}${option('correction', 'Corrections', query.kind)}</select></div>
  <div><label for="author">Author</label><select id="author" name="author">${option('', 'Anyone', query.author)}${model.authors.map((a) => option(a.id, a.name, query.author))}</select></div>
  <div class="filter-actions"><button type="submit">Find</button>${query.q || query.status || query.kind || query.author ? html` <a href="/">Clear</a>` : ''}</div>
</form>`;
}

function listPaging(model: CampaignListModel): SafeHtml {
  const { query, total, pageSize } = model;
  if (total === 0) return html``;
  const from = (query.page - 1) * pageSize + 1;
  const to = Math.min(total, query.page * pageSize);
  const pages = Math.ceil(total / pageSize);
  return html`<nav class="paging" aria-label="Pages of campaigns"><span data-testid="list-range">${from.toLocaleString('en-US')}–${to.toLocaleString('en-US')} of ${total.toLocaleString('en-US')}</span>
  ${query.page > 1 ? html`<a href="${listHref(query, { page: query.page - 1 })}" rel="prev">← Newer</a>` : ''}
  ${query.page < pages ? html`<a href="${listHref(query, { page: query.page + 1 })}" rel="next">Older →</a>` : ''}</nav>`;
}

function listEmptyState(model: CampaignListModel, chrome: Chrome): SafeHtml {
  const { query } = model;
  const filtered = query.q || query.status || query.kind || query.author;
  if (filtered)
    return html`<p class="empty" data-testid="empty-state">No campaigns match these filters. <a href="/">Clear the filters</a> to see every campaign.</p>`;
  if (query.page > 1)
    return html`<p class="empty" data-testid="empty-state">There are no campaigns on this page. <a href="/">Go to the first page</a>.</p>`;
  const author = chrome.session?.actor.roles.includes('author');
  return html`<p class="empty" data-testid="empty-state">No campaigns yet. ${author ? html`<a class="button primary" href="/campaigns/new">Write the first one</a>` : 'An author writes one; it shows here as soon as it is saved.'}</p>`;
}

export function campaignListPage(model: CampaignListModel, chrome: Chrome): string {
  return page(
    'Campaigns',
    html`
<h1>Campaigns</h1>
${listFilters(model)}
${
  model.items.length === 0
    ? listEmptyState(model, chrome)
    : html`<div class="scroll"><table class="grid">
  <caption class="muted">Newest first</caption>
  <thead><tr><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Audience</th><th scope="col">Sends</th><th scope="col">Approvals</th><th scope="col">Progress</th></tr></thead>
  <tbody>
  ${model.items.map(
    ({ campaign, approved, breakdown }) => html`<tr>
    <td><a href="/campaigns/${campaign.id}">${campaign.subject}</a>${campaign.kind === 'correction' ? html` <span class="badge">correction</span>` : ''}</td>
    <td>${badge(campaign.status)}</td>
    <td>${campaign.recipient_count?.toLocaleString('en-US') ?? html`<span class="muted">not frozen</span>`}</td>
    <td>${when(campaign.scheduled_for ?? campaign.send_at)}</td>
    <td>${approved} of ${campaign.required_approvals}</td>
    <td>${campaign.recipient_count === null ? html`<span class="muted">—</span>` : html`${progressBar(breakdown)} <span title="${breakdown.summary}">${breakdown.percentSent}% sent</span>`}</td>
  </tr>`,
  )}
  </tbody>
</table></div>`
}
${listPaging(model)}`,
    { ...chrome, current: 'campaigns' },
  );
}

function actions(model: CampaignLiveModel, chrome: Chrome): SafeHtml {
  const { campaign } = model;
  const form = (path: string, label: string, cls = '', confirm?: string) =>
    html`<form method="post" action="/campaigns/${campaign.id}/${path}" class="inline"${confirm ? html` data-confirm="${confirm}"` : ''}>${csrfField(chrome)}<button type="submit" class="${cls}">${label}</button></form>`;
  const authorActions = model.isAuthor || chrome.session?.actor.roles.includes('author');
  return html`<div class="actions">
  ${campaign.status === 'draft' && authorActions ? html`<a class="button" href="/campaigns/${campaign.id}/edit">Edit</a><a class="button primary" href="/campaigns/${campaign.id}/submit">Submit for approval…</a>` : ''}
  ${campaign.status === 'halted' && authorActions && !model.correction ? html`<a class="button" href="/campaigns/${campaign.id}/submit">Ask for approval to resume…</a>` : ''}
  ${model.canHalt && (campaign.status === 'sending' || campaign.status === 'scheduled') ? form('halt', 'Halt now', 'danger', 'Halt this campaign now? Nothing more will be handed to the mail server.') : ''}
  ${['draft', 'pending_approval', 'scheduled'].includes(campaign.status) ? form('cancel', 'Cancel campaign', '', 'Cancel this campaign?') : ''}
  ${model.recallable ? html`<a class="button danger" href="/campaigns/${campaign.id}/recall">Recall and correct…</a>` : ''}
</div>`;
}

/** Where a campaign with a first wave stands: the wave going out, the pause with its countdown, or the rest. */
function waveNotice(model: CampaignLiveModel, chrome: Chrome): SafeHtml {
  const { campaign } = model;
  if (!campaign.wave_size || campaign.status !== 'sending') return html``;
  const size = campaign.wave_size.toLocaleString('en-US');
  if (campaign.wave_stage === 'first')
    return html`<p class="notice" data-testid="wave">First wave: sending to ${size} recipients first; the rest waits until the wave has gone out and the pause after it.</p>`;
  if (campaign.wave_stage === 'rest')
    return html`<p class="notice" data-testid="wave">The first wave of ${size} went out; now sending to the rest.</p>`;
  const until = campaign.wave_paused_until;
  const canContinue = chrome.session?.actor.roles.some((role) => role === 'approver' || role === 'admin');
  return html`<div class="notice" data-testid="wave"><p>Paused after the first wave of ${size}. Check what they received: halt now and nobody else gets it. The rest continues by itself${until ? html` at ${when(until)} <span data-countdown="${until.toISOString()}" class="muted"></span>` : ''}.</p>
${canContinue ? html`<form method="post" action="/campaigns/${campaign.id}/continue" class="inline" data-confirm="Send to the rest of the audience now?">${csrfField(chrome)}<button type="submit">Continue now</button></form>` : ''}</div>`;
}

function notices(model: CampaignLiveModel, chrome: Chrome): SafeHtml {
  const { campaign } = model;
  return html`${waveNotice(model, chrome)}${model.correction ? html`<p class="notice">Recalled: see the correction <a href="/campaigns/${model.correction.id}">${model.correction.subject}</a> (${statusLabel(model.correction.status)}).</p>` : ''}
${campaign.halt_reason && campaign.status === 'halted' ? html`<p class="error" role="status">Halted: ${campaign.halt_reason}</p>` : ''}`;
}

function sendsAt(model: CampaignLiveModel): SafeHtml {
  const { campaign } = model;
  if (!campaign.scheduled_for) return html`${campaign.status === 'pending_approval' ? 'once approved' : '—'}`;
  return html`${when(campaign.scheduled_for)}${campaign.status === 'scheduled' ? html` <span data-countdown="${campaign.scheduled_for.toISOString()}" class="muted"></span>` : ''}`;
}

function approvalsPanel(model: CampaignLiveModel): SafeHtml {
  const { campaign } = model;
  return html`<h2 id="approvals-title">Approvals: <span data-testid="approvals-count">${model.approvedBy.length} of ${campaign.required_approvals}</span></h2>
  ${model.approvedBy.length ? html`<p>Approved by ${model.approvedBy.join(', ')}.</p>` : ''}
  ${model.asked.length ? html`<p>Asked: ${model.asked.map((a, i) => html`${i ? ', ' : ''}${a.name}${a.decided ? ' (decided)' : ' (waiting)'}`)}</p>` : ''}
  ${
    model.decisions.length
      ? html`<ul>${model.decisions.map((d) => html`<li>${d.name} ${d.decision === 'approve' ? 'approved' : 'rejected'}${d.reason ? `: “${d.reason}”` : ''} — ${when(d.at)}${d.voided ? html` <span class="muted" data-testid="voided">(${d.voided})</span>` : ''}</li>`)}</ul>`
      : ''
  }`;
}

function deliveryPanel(model: CampaignLiveModel): SafeHtml {
  const { campaign } = model;
  const hasLedger = Object.values(model.counts).some((n) => n > 0);
  return html`<h2 id="progress-title">Delivery</h2>
  ${progressPanel(model.breakdown)}
  ${progressChart(model.timeline)}
  ${hasLedger ? html`<p><a href="/campaigns/${campaign.id}/deliveries">Every recipient’s delivery</a> · <a href="/campaigns/${campaign.id}/deliveries.csv" download>Download the ledger (CSV)</a></p>` : ''}`;
}

/** The parts of the campaign page that follow the campaign while it is open; the page polls for them. */
export function campaignFragments(model: CampaignLiveModel, chrome: Chrome): Record<string, string> {
  return {
    status: badge(model.campaign.status).value,
    notices: notices(model, chrome).value,
    actions: actions(model, chrome).value,
    'sends-at': sendsAt(model).value,
    approvals: approvalsPanel(model).value,
    delivery: deliveryPanel(model).value,
    audit: auditTrail(model.audit, when).value,
  };
}

export function campaignPage(model: CampaignPageModel, chrome: Chrome): string {
  const { campaign } = model;
  const fragment = (name: string, content: SafeHtml) => html`<div data-fragment="${name}">${content}</div>`;
  return page(
    campaign.subject,
    html`
<p><a href="/">← Campaigns</a></p>
<div ${model.pollMs ? html`data-live="/campaigns/${campaign.id}/live" data-poll-ms="${model.pollMs}"` : ''} data-status="${campaign.status}">
<h1>${campaign.subject} <span data-fragment="status" aria-live="polite">${badge(campaign.status)}</span></h1>
${campaign.kind === 'correction' && model.original ? html`<p class="notice">A correction of <a href="/campaigns/${model.original.id}">${model.original.subject}</a>.</p>` : ''}
${fragment('notices', notices(model, chrome))}
${fragment('actions', actions(model, chrome))}
<dl class="facts">
  <dt>From</dt><dd>${campaign.from_name} &lt;${campaign.from_address}&gt;</dd>
  <dt>Written by</dt><dd>${model.authorName}</dd>
  <dt>Recipients</dt><dd>${campaign.recipient_count?.toLocaleString('en-US') ?? 'resolved when submitted'}</dd>
  <dt>Requested send time</dt><dd>${campaign.send_at ? when(campaign.send_at) : 'as soon as approved'}</dd>
  <dt>Hold window</dt><dd>${model.holdWindow}</dd>
  <dt>Sends at</dt><dd data-fragment="sends-at">${sendsAt(model)}</dd>
  <dt>Content hash</dt><dd><code>${campaign.content_hash ?? 'not frozen yet'}</code></dd>
</dl>
<section class="panel" aria-labelledby="approvals-title" data-fragment="approvals">${approvalsPanel(model)}</section>
${model.retraction ? retractionPanel(model, chrome) : ''}
<section class="panel" aria-labelledby="progress-title" data-fragment="delivery">${deliveryPanel(model)}</section>
${model.messageHtml ? html`<h2>The message as recipients see it</h2><iframe class="message" title="The frozen message" sandbox="allow-same-origin" srcdoc="${model.messageHtml}" data-fit-content></iframe>` : ''}
<section aria-labelledby="audit-title">
  <h2 id="audit-title">Audit trail</h2>
  ${fragment('audit', auditTrail(model.audit, when))}
</section>
</div>`,
    chrome,
  );
}

/** The retraction: what its dry run found (what approvers decide on), its approvals and its ledger. */
function retractionPanel(model: CampaignLiveModel, chrome: Chrome): SafeHtml {
  const r = model.retraction!;
  const form = (path: string, label: string, cls: string, confirm: string) =>
    html`<form method="post" action="/campaigns/${model.campaign.id}/retraction/${path}" class="inline" data-confirm="${confirm}">${csrfField(chrome)}<button type="submit" class="${cls}">${label}</button></form>`;
  const live = r.status === 'checking' || r.status === 'running';
  return html`<section class="panel" aria-labelledby="retraction-title" data-testid="retraction" ${live ? html`data-live-retraction="/campaigns/${model.campaign.id}/retraction/progress" data-status="${r.status}"` : ''}>
  <h2 id="retraction-title">Retraction: ${retractionStatusLabel(r.status)}</h2>
  <p>Moves this message to Trash in the mailboxes of the ${r.items.toLocaleString('en-US')} people the ledger says may have it, through ${r.backend}. Nothing else is touched.</p>
  ${r.haltReason ? html`<p class="error" role="status">Halted: ${r.haltReason}</p>` : ''}
  ${dryRunTable(r)}
  <p>Approvals: ${r.approvals.length ? r.approvals.map((a) => a.email).join(', ') : 'none yet'}${r.quorum.missing.length ? html` — still needs ${r.quorum.missing.join(' and ')}` : ''} (the correction's ${r.quorum.required} approvers plus an admin).</p>
  ${r.status === 'checking' || r.status === 'pending_approval' ? '' : outcomesTable(r)}
  <p><a href="/api/v1/campaigns/${model.campaign.id}/retraction/items">Each recipient's Message-ID and outcome (JSON, API token needed)</a></p>
  <div class="actions">
    ${model.canApproveRetraction ? form('approve', 'Approve the retraction', 'primary', `Remove this message from ${r.dryRun.would_remove} mailboxes?`) : ''}
    ${model.canHaltRetraction ? form('halt', 'Halt the retraction', 'danger', 'Halt the retraction? No further mailbox is touched.') : ''}
  </div>
</section>`;
}

export function recallPage(model: RecallPageModel, chrome: Chrome): string {
  const { campaign } = model;
  const reach = model.sent + model.unknown;
  return page(
    `Recall ${campaign.subject}`,
    html`
<h1>Recall “${campaign.subject}”</h1>
<div class="panel" data-testid="recall-counts">
  <p><strong>${reach.toLocaleString('en-US')}</strong> people received the original (${model.sent.toLocaleString('en-US')} delivered, ${model.unknown.toLocaleString('en-US')} unknown).</p>
  <p>The correction will reach <strong data-testid="correction-reach">${reach.toLocaleString('en-US')}</strong> people${model.inFlight ? `, plus any of the ${model.inFlight} deliveries in flight that land` : ''} — and nobody else.</p>
  ${campaign.status === 'sending' ? html`<p class="error">Recalling first halts the campaign: nothing more of it will be sent.</p>` : ''}
</div>
<form method="post" action="/campaigns/${campaign.id}/recall" class="panel">
  ${csrfField(chrome)}
  <label for="note">A note for the recipients (optional; it goes below the first line)</label>
  <textarea id="note" name="note" rows="3"></textarea>
  <fieldset>
    <legend>Subject</legend>
    <label><input type="radio" name="subjectStyle" value="reply" checked> Re: ${campaign.subject} (threads under the original in Gmail and Outlook)</label>
    <label><input type="radio" name="subjectStyle" value="sent_in_error"> Sent in error: ${campaign.subject} (plainer, but will not thread)</label>
  </fieldset>
  ${
    model.retractionOff
      ? ''
      : html`<label><input type="checkbox" name="retract" value="yes"> Also remove the original from the recipients' mailboxes (it moves to their Trash, after a dry run and an approval that needs an admin)</label>`
  }
  <details><summary>The correction text</summary><pre>${model.defaultBody}</pre></details>
  <p class="muted">The correction goes through the same approval as any campaign; approvers are asked at once and it sends as soon as approved.</p>
  <div class="actions"><button type="submit" class="danger">Recall and send the correction for approval</button> <a href="/campaigns/${campaign.id}">Back</a></div>
</form>`,
    chrome,
  );
}
