import { deliveryProgress, type DeliveryCounts, type DeliveryStatus } from '../../domain/delivery.js';
import type { CampaignListItem, CampaignPageModel, RecallPageModel } from '../../services/campaign-pages.js';
import { csrfField, html, page, type Chrome, type SafeHtml } from './html.js';
import { dryRunTable, outcomesTable, retractionStatusLabel } from './retraction.js';

const statusLabel = (status: string) => status.replace('_', ' ');
const badge = (status: string) => html`<span class="badge ${status}">${statusLabel(status)}</span>`;
const when = (date: Date | null | undefined) => (date ? html`<time datetime="${date.toISOString()}" data-local>${date.toUTCString()}</time>` : html`—`);

export function campaignListPage(items: CampaignListItem[], chrome: Chrome): string {
  return page(
    'Campaigns',
    html`
<h1>Campaigns</h1>
${items.length === 0 ? html`<p class="muted">No campaigns yet.</p>` : ''}
<table class="grid">
  <caption class="muted">Newest first</caption>
  <thead><tr><th scope="col">Subject</th><th scope="col">Status</th><th scope="col">Audience</th><th scope="col">Sends</th><th scope="col">Approvals</th><th scope="col">Progress</th></tr></thead>
  <tbody>
  ${items.map(({ campaign, approved, counts }) => {
    const progress = deliveryProgress(counts, campaign.recipient_count ?? 0);
    return html`<tr>
    <td><a href="/campaigns/${campaign.id}">${campaign.subject}</a>${campaign.kind === 'correction' ? html` <span class="badge">correction</span>` : ''}</td>
    <td>${badge(campaign.status)}</td>
    <td>${campaign.recipient_count?.toLocaleString('en-US') ?? html`<span class="muted">not frozen</span>`}</td>
    <td>${when(campaign.scheduled_for ?? campaign.send_at)}</td>
    <td>${approved} of ${campaign.required_approvals}</td>
    <td><div class="progress" role="progressbar" aria-label="Delivery progress" aria-valuenow="${progress.percent}" aria-valuemin="0" aria-valuemax="100"><span data-percent="${progress.percent}"></span></div> ${progress.percent}%</td>
  </tr>`;
  })}
  </tbody>
</table>`,
    { ...chrome, current: 'campaigns' },
  );
}

function countsPanel(counts: DeliveryCounts, total: number): SafeHtml {
  const progress = deliveryProgress(counts, total);
  const cell = (status: DeliveryStatus, label: string) => html`<div><strong data-count="${status}">${counts[status].toLocaleString('en-US')}</strong>${label}</div>`;
  return html`
<div class="counts">${cell('sent', 'sent')}${cell('failed', 'failed')}${cell('halted', 'halted')}${cell('unknown', 'unknown')}${cell('queued', 'waiting')}${cell('sending', 'in flight')}</div>
<div class="progress" role="progressbar" aria-label="Delivery progress" aria-valuenow="${progress.percent}" aria-valuemin="0" aria-valuemax="100"><span id="progress-bar" data-percent="${progress.percent}"></span></div>
<p><strong id="progress-percent" data-testid="progress-percent">${progress.percent}%</strong> done (${progress.done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')})</p>`;
}

function actions(model: CampaignPageModel, chrome: Chrome): SafeHtml {
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

export function campaignPage(model: CampaignPageModel, chrome: Chrome): string {
  const { campaign } = model;
  const total = campaign.recipient_count ?? 0;
  const live = campaign.status === 'sending' || campaign.status === 'scheduled' || (model.counts.sending ?? 0) > 0;
  return page(
    campaign.subject,
    html`
<p><a href="/">← Campaigns</a></p>
<h1>${campaign.subject} ${badge(campaign.status)}</h1>
${campaign.kind === 'correction' && model.original ? html`<p class="notice">A correction of <a href="/campaigns/${model.original.id}">${model.original.subject}</a>.</p>` : ''}
${model.correction ? html`<p class="notice">Recalled: see the correction <a href="/campaigns/${model.correction.id}">${model.correction.subject}</a> (${statusLabel(model.correction.status)}).</p>` : ''}
${campaign.halt_reason ? html`<p class="error" role="status">Halted: ${campaign.halt_reason}</p>` : ''}
${actions(model, chrome)}
<dl class="facts">
  <dt>From</dt><dd>${campaign.from_name} &lt;${campaign.from_address}&gt;</dd>
  <dt>Written by</dt><dd>${model.authorName}</dd>
  <dt>Recipients</dt><dd>${campaign.recipient_count?.toLocaleString('en-US') ?? 'resolved when submitted'}</dd>
  <dt>Requested send time</dt><dd>${campaign.send_at ? when(campaign.send_at) : 'as soon as approved'}</dd>
  <dt>Hold window</dt><dd>${campaign.kind === 'correction' ? 'none (corrections go as soon as approved)' : `${Math.round(model.holdWindowSeconds / 60)} minutes after the last approval`}</dd>
  <dt>Sends at</dt><dd>${campaign.scheduled_for ? html`${when(campaign.scheduled_for)}${campaign.status === 'scheduled' ? html` <span data-countdown="${campaign.scheduled_for.toISOString()}" class="muted"></span>` : ''}` : '—'}</dd>
  <dt>Content hash</dt><dd><code>${campaign.content_hash ?? 'not frozen yet'}</code></dd>
</dl>
<section class="panel" aria-labelledby="approvals-title">
  <h2 id="approvals-title">Approvals: ${model.approvedBy.length} of ${campaign.required_approvals}</h2>
  ${model.approvedBy.length ? html`<p>Approved by ${model.approvedBy.join(', ')}.</p>` : ''}
  ${model.asked.length ? html`<p>Asked: ${model.asked.map((a, i) => html`${i ? ', ' : ''}${a.name}${a.decided ? ' (decided)' : ' (waiting)'}`)}</p>` : ''}
  ${model.decisions.length
    ? html`<ul>${model.decisions.map((d) => html`<li>${d.name} ${d.decision === 'approve' ? 'approved' : 'rejected'}${d.reason ? `: “${d.reason}”` : ''} — ${when(d.at)}${d.voided ? ' (voided by a later change)' : ''}</li>`)}</ul>`
    : ''}
</section>
${model.retraction ? retractionPanel(model, chrome) : ''}
<section class="panel" aria-labelledby="progress-title" ${live ? html`data-live-progress="/campaigns/${campaign.id}/progress" data-status="${campaign.status}"` : ''}>
  <h2 id="progress-title">Delivery</h2>
  ${countsPanel(model.counts, total)}
  <p><a href="/api/v1/campaigns/${campaign.id}/deliveries?format=csv">Download the ledger (CSV, API token needed)</a></p>
</section>
${model.messageHtml ? html`<h2>The message as recipients see it</h2><iframe class="message" title="The frozen message" sandbox="allow-same-origin" srcdoc="${model.messageHtml}" data-fit-content></iframe>` : ''}
<section aria-labelledby="audit-title">
  <h2 id="audit-title">Audit trail</h2>
  <table class="grid"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Details</th></tr></thead>
  <tbody>${model.audit.map((e) => html`<tr><td>${when(new Date(e.at))}</td><td>${e.actor}</td><td>${e.action}</td><td><code>${JSON.stringify(e.data)}</code></td></tr>`)}</tbody></table>
</section>`,
    chrome,
  );
}

/** The retraction: what its dry run found (what approvers decide on), its approvals and its ledger. */
function retractionPanel(model: CampaignPageModel, chrome: Chrome): SafeHtml {
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
  ${model.retractionOff
    ? ''
    : html`<label><input type="checkbox" name="retract" value="yes"> Also remove the original from the recipients' mailboxes (it moves to their Trash, after a dry run and an approval that needs an admin)</label>`}
  <details><summary>The correction text</summary><pre>${model.defaultBody}</pre></details>
  <p class="muted">The correction goes through the same approval as any campaign; approvers are asked at once and it sends as soon as approved.</p>
  <div class="actions"><button type="submit" class="danger">Recall and send the correction for approval</button> <a href="/campaigns/${campaign.id}">Back</a></div>
</form>`,
    chrome,
  );
}

