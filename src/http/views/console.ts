import type { CampaignRow, UserRow } from '../../db/schema.js';
import type { DeliveryStatus } from '../../domain/delivery.js';
import type { ChainedEvent } from '../../domain/audit-chain.js';
import { csrfField, html, page, type Chrome, type SafeHtml } from './html.js';

type Counts = Record<DeliveryStatus, number>;

const statusLabel = (status: string) => status.replace('_', ' ');
const badge = (status: string) => html`<span class="badge ${status}">${statusLabel(status)}</span>`;
const when = (date: Date | null | undefined) => (date ? html`<time datetime="${date.toISOString()}" data-local>${date.toUTCString()}</time>` : html`—`);

export function progressOf(counts: Counts, total: number) {
  const done = counts.sent + counts.failed + counts.halted + counts.skipped + counts.unknown;
  return { done, total, percent: total > 0 ? Math.floor((done / total) * 100) : 0 };
}

export interface CampaignListItem {
  campaign: CampaignRow;
  approved: number;
  counts: Counts;
}

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
    const progress = progressOf(counts, campaign.recipient_count ?? 0);
    return html`<tr>
    <td><a href="/campaigns/${campaign.id}">${campaign.subject}</a>${campaign.kind === 'correction' ? html` <span class="badge">correction</span>` : ''}</td>
    <td>${badge(campaign.status)}</td>
    <td>${campaign.recipient_count?.toLocaleString('en-US') ?? html`<span class="muted">not frozen</span>`}</td>
    <td>${when(campaign.scheduled_for ?? campaign.send_at)}</td>
    <td>${approved} of ${campaign.required_approvals}</td>
    <td><div class="progress" role="progressbar" aria-label="Delivery progress" aria-valuenow="${progress.percent}" aria-valuemin="0" aria-valuemax="100"><span style="width:${progress.percent}%"></span></div> ${progress.percent}%</td>
  </tr>`;
  })}
  </tbody>
</table>`,
    { ...chrome, current: 'campaigns' },
  );
}

export interface ComposeModel {
  action: string;
  values: { subject: string; body: string; listIds: string[]; recipients: string; sendAtLocal: string; timeZone: string };
  lists: { id: string; name: string; member_count: number }[];
  timeZones: string[];
  errors: Record<string, string>;
  preview?: { count: number; html: string | null };
  editing: boolean;
}

export function composePage(model: ComposeModel, chrome: Chrome): string {
  const { values, errors } = model;
  const error = (field: string) => (errors[field] ? html`<p class="field-error" id="${field}-error" role="alert">${errors[field]}</p>` : '');
  const described = (field: string) => (errors[field] ? html` aria-describedby="${field}-error" aria-invalid="true"` : '');
  return page(
    model.editing ? 'Edit campaign' : 'New campaign',
    html`
<h1>${model.editing ? 'Edit campaign' : 'New campaign'}</h1>
${errors.form ? html`<p class="error" role="alert">${errors.form}</p>` : ''}
<div class="two-col">
<form method="post" action="${model.action}" id="compose" data-preview-url="/campaigns/preview">
  ${csrfField(chrome)}
  <label for="subject">Subject</label>
  <input id="subject" name="subject" required maxlength="250" value="${values.subject}"${described('subject')}>
  ${error('subject')}
  <label for="body">Message (Markdown; merge fields like {{firstName}}, {{name}}, {{email}} or a list column)</label>
  <textarea id="body" name="body" class="body" required${described('body')}>${values.body}</textarea>
  ${error('body')}
  <fieldset${described('lists')}>
    <legend>Lists</legend>
    ${model.lists.length === 0 ? html`<p class="muted">No lists yet: <a href="/lists">create one</a> or paste addresses below.</p>` : ''}
    ${model.lists.map(
      (list) => html`<label><input type="checkbox" name="listIds" value="${list.id}"${values.listIds.includes(list.id) ? ' checked' : ''}> ${list.name} (${Number(list.member_count).toLocaleString('en-US')})</label>`,
    )}
  </fieldset>
  ${error('lists')}
  <label for="recipients">More recipients, one per line (<code>ann@example.com</code> or <code>Ann Lee &lt;ann@example.com&gt;</code>)</label>
  <textarea id="recipients" name="recipients" rows="4"${described('recipients')}>${values.recipients}</textarea>
  ${error('recipients')}
  <label for="sendAtLocal">Send at (leave empty to send as soon as approved)</label>
  <input id="sendAtLocal" name="sendAtLocal" type="datetime-local" value="${values.sendAtLocal}"${described('sendAt')}>
  ${error('sendAt')}
  <label for="timeZone">Time zone of that time</label>
  <select id="timeZone" name="timeZone" data-auto-zone="${values.timeZone === 'UTC' ? 'true' : 'false'}">
    ${model.timeZones.map((zone) => html`<option${zone === values.timeZone ? ' selected' : ''}>${zone}</option>`)}
  </select>
  <div class="actions">
    <button type="submit" name="intent" value="save" class="primary">Save draft</button>
    <button type="submit" name="intent" value="preview">Preview</button>
  </div>
</form>
<section aria-labelledby="preview-title">
  <h2 id="preview-title">Preview</h2>
  <p>Recipients: <strong data-testid="audience-count" id="audience-count">${model.preview ? model.preview.count.toLocaleString('en-US') : '—'}</strong></p>
  <iframe class="message" id="preview" title="Preview for a sample recipient" sandbox="" srcdoc="${model.preview?.html ?? '<p style=&quot;font-family:sans-serif;color:#667085&quot;>Press Preview to see the message as a sample recipient will.</p>'}"></iframe>
</section>
</div>`,
    { ...chrome, current: model.editing ? 'campaigns' : 'new' },
  );
}

export interface CampaignPageModel {
  campaign: CampaignRow;
  authorName: string;
  approvedBy: string[];
  asked: { name: string; email: string; decided: boolean }[];
  decisions: { name: string; decision: string; reason: string | null; at: Date; voided: boolean }[];
  counts: Counts;
  messageHtml: string | null;
  audit: ChainedEvent[];
  original: CampaignRow | null;
  correction: CampaignRow | null;
  recallable: boolean;
  canHalt: boolean;
  isAuthor: boolean;
  holdWindowSeconds: number;
}

function countsPanel(counts: Counts, total: number): SafeHtml {
  const progress = progressOf(counts, total);
  const cell = (status: DeliveryStatus, label: string) => html`<div><strong data-count="${status}">${counts[status].toLocaleString('en-US')}</strong>${label}</div>`;
  return html`
<div class="counts">${cell('sent', 'sent')}${cell('failed', 'failed')}${cell('halted', 'halted')}${cell('unknown', 'unknown')}${cell('queued', 'waiting')}${cell('sending', 'in flight')}</div>
<div class="progress" role="progressbar" aria-label="Delivery progress" aria-valuenow="${progress.percent}" aria-valuemin="0" aria-valuemax="100"><span id="progress-bar" style="width:${progress.percent}%"></span></div>
<p><strong id="progress-percent" data-testid="progress-percent">${progress.percent}%</strong> done (${progress.done.toLocaleString('en-US')} of ${total.toLocaleString('en-US')})</p>`;
}

function actions(model: CampaignPageModel, chrome: Chrome): SafeHtml {
  const { campaign } = model;
  const form = (path: string, label: string, cls = '', confirm?: string) =>
    html`<form method="post" action="/campaigns/${campaign.id}/${path}" class="inline"${confirm ? html` data-confirm="${confirm}"` : ''}>${csrfField(chrome)}<button type="submit" class="${cls}">${label}</button></form>`;
  const authorActions = model.isAuthor || chrome.session?.actor.roles.includes('author');
  return html`<div class="actions">
  ${campaign.status === 'draft' && authorActions ? html`<a class="button" href="/campaigns/${campaign.id}/edit">Edit</a>${form('submit', 'Submit for approval', 'primary')}` : ''}
  ${campaign.status === 'halted' && authorActions && !model.correction ? form('submit', 'Ask for approval to resume', '') : ''}
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
<section class="panel" aria-labelledby="progress-title" ${live ? html`data-live-progress="/campaigns/${campaign.id}/progress" data-status="${campaign.status}"` : ''}>
  <h2 id="progress-title">Delivery</h2>
  ${countsPanel(model.counts, total)}
  <p><a href="/api/v1/campaigns/${campaign.id}/deliveries?format=csv">Download the ledger (CSV, API token needed)</a></p>
</section>
${model.messageHtml ? html`<h2>The message as recipients see it</h2><iframe class="message" title="The frozen message" sandbox="" srcdoc="${model.messageHtml}"></iframe>` : ''}
<section aria-labelledby="audit-title">
  <h2 id="audit-title">Audit trail</h2>
  <table class="grid"><thead><tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Details</th></tr></thead>
  <tbody>${model.audit.map((e) => html`<tr><td>${when(new Date(e.at))}</td><td>${e.actor}</td><td>${e.action}</td><td><code>${JSON.stringify(e.data)}</code></td></tr>`)}</tbody></table>
</section>`,
    chrome,
  );
}

export interface RecallModel {
  campaign: CampaignRow;
  sent: number;
  unknown: number;
  inFlight: number;
  defaultBody: string;
  error?: string;
}

export function recallPage(model: RecallModel, chrome: Chrome): string {
  const { campaign } = model;
  const reach = model.sent + model.unknown;
  return page(
    `Recall ${campaign.subject}`,
    html`
<h1>Recall “${campaign.subject}”</h1>
${model.error ? html`<p class="error" role="alert">${model.error}</p>` : ''}
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
  <details><summary>The correction text</summary><pre>${model.defaultBody}</pre></details>
  <p class="muted">The correction goes through the same approval as any campaign; approvers are asked at once and it sends as soon as approved.</p>
  <div class="actions"><button type="submit" class="danger">Recall and send the correction for approval</button> <a href="/campaigns/${campaign.id}">Back</a></div>
</form>`,
    chrome,
  );
}

export function listsPage(lists: { id: string; name: string; member_count: number }[], chrome: Chrome, error?: string): string {
  return page(
    'Lists',
    html`
<h1>Recipient lists</h1>
<table class="grid"><thead><tr><th scope="col">List</th><th scope="col">Members</th></tr></thead>
<tbody>${lists.map((l) => html`<tr><td><a href="/lists/${l.id}">${l.name}</a></td><td>${Number(l.member_count).toLocaleString('en-US')}</td></tr>`)}</tbody></table>
<form method="post" action="/lists" class="panel">
  ${csrfField(chrome)}
  <label for="list-name">New list name</label>
  <input id="list-name" name="name" required maxlength="200"${error ? html` aria-describedby="list-name-error"` : ''}>
  ${error ? html`<p class="field-error" id="list-name-error" role="alert">${error}</p>` : ''}
  <div class="actions"><button type="submit" class="primary">Create list</button></div>
</form>`,
    { ...chrome, current: 'lists' },
  );
}

export interface ListPageModel {
  list: { id: string; name: string };
  members: { email: string; name: string; fields: Record<string, string> }[];
  total: number;
  search: string;
  offset: number;
  pageSize: number;
  csv?: string;
  preview?: { rows: { email: string; name: string; fields: Record<string, string> }[]; bad: { field: string; message: string }[]; total: number };
}

export function listPage(model: ListPageModel, chrome: Chrome): string {
  const { list } = model;
  const next = model.offset + model.pageSize < model.total;
  const query = (offset: number) => `/lists/${list.id}?q=${encodeURIComponent(model.search)}&offset=${offset}`;
  return page(
    list.name,
    html`
<p><a href="/lists">← Lists</a></p>
<h1>${list.name}</h1>
<section class="panel" aria-labelledby="import-title">
  <h2 id="import-title">Import members from CSV</h2>
  <form method="post" action="/lists/${list.id}/import" id="import-form">
    ${csrfField(chrome)}
    <label for="csv-file">Choose a .csv file (first row: email,name and any merge-field columns)</label>
    <input id="csv-file" type="file" accept=".csv,text/csv" data-fills="csv">
    <label for="csv">…or paste the CSV</label>
    <textarea id="csv" name="csv" rows="6" required>${model.csv ?? ''}</textarea>
    <div class="actions">
      <button type="submit" name="intent" value="preview">Preview import</button>
      ${model.preview && model.preview.bad.length === 0 ? html`<button type="submit" name="intent" value="import" class="primary">Import ${model.preview.total} rows</button>` : ''}
    </div>
  </form>
  ${model.preview
    ? html`<div data-testid="import-preview">
    ${model.preview.bad.length
      ? html`<p class="error" role="alert">${model.preview.bad.length} problem(s) — nothing will be imported until they are fixed:</p><ul>${model.preview.bad.map((b) => html`<li><strong>${b.field}</strong>: ${b.message}</li>`)}</ul>`
      : html`<p>${model.preview.total} rows are valid. The first ones:</p>`}
    <table class="grid"><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Fields</th></tr></thead>
    <tbody>${model.preview.rows.map((r) => html`<tr><td>${r.email}</td><td>${r.name}</td><td><code>${JSON.stringify(r.fields)}</code></td></tr>`)}</tbody></table></div>`
    : ''}
</section>
<section aria-labelledby="members-title">
  <h2 id="members-title">Members (${model.total.toLocaleString('en-US')})</h2>
  <form method="get" action="/lists/${list.id}" role="search">
    <label for="q">Search by address or name</label>
    <input id="q" name="q" value="${model.search}">
    <div class="actions"><button type="submit">Search</button></div>
  </form>
  <table class="grid"><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Fields</th></tr></thead>
  <tbody>${model.members.map((m) => html`<tr><td>${m.email}</td><td>${m.name}</td><td><code>${JSON.stringify(m.fields)}</code></td></tr>`)}</tbody></table>
  <div class="actions">
    ${model.offset > 0 ? html`<a class="button" href="${query(Math.max(0, model.offset - model.pageSize))}">Previous</a>` : ''}
    ${next ? html`<a class="button" href="${query(model.offset + model.pageSize)}">Next</a>` : ''}
  </div>
</section>`,
    { ...chrome, current: 'lists' },
  );
}

export function adminPage(users: UserRow[], chrome: Chrome, error?: string): string {
  const actor = chrome.session!.actor;
  const isAdmin = actor.roles.includes('admin');
  const engaged = chrome.killSwitch?.engaged;
  const roleBoxes = (prefix: string, roles: readonly string[]) =>
    (['author', 'approver', 'admin'] as const).map(
      (role) => html`<label><input type="checkbox" name="roles" value="${role}" id="${prefix}-${role}"${roles.includes(role) ? ' checked' : ''}> ${role}</label>`,
    );
  return page(
    'Admin',
    html`
<h1>Admin</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<section class="panel" aria-labelledby="kill-title">
  <h2 id="kill-title">Kill switch: <span data-testid="kill-switch-state">${engaged ? 'ENGAGED' : 'off'}</span></h2>
  <p>${engaged ? 'Nothing is sent while it is engaged. Halted campaigns need a fresh approval even after it is released.' : 'Engaging it halts every campaign that is scheduled or sending, at once.'}</p>
  ${!engaged && (isAdmin || actor.roles.includes('approver'))
    ? html`<form method="post" action="/admin/halt-all" data-confirm="Halt everything now?">${csrfField(chrome)}<button type="submit" class="danger">Halt everything</button></form>`
    : ''}
  ${engaged && isAdmin ? html`<form method="post" action="/admin/resume-all">${csrfField(chrome)}<button type="submit">Release the kill switch</button></form>` : ''}
</section>
${isAdmin
  ? html`<section aria-labelledby="users-title">
  <h2 id="users-title">People and roles</h2>
  <table class="grid"><thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Roles</th></tr></thead>
  <tbody>${users.map(
    (u) => html`<tr><td>${u.name}</td><td>${u.email}</td><td><form method="post" action="/admin/users/${u.id}/roles" class="inline">${csrfField(chrome)}<fieldset><legend>Roles of ${u.name}</legend>${roleBoxes(u.id, u.roles)}</fieldset><button type="submit">Save roles</button></form></td></tr>`,
  )}</tbody></table>
  <form method="post" action="/admin/users" class="panel">
    ${csrfField(chrome)}
    <h3>Add a person</h3>
    <label for="new-email">Email</label><input id="new-email" name="email" type="email" required>
    <label for="new-name">Name</label><input id="new-name" name="name" required>
    <fieldset><legend>Roles</legend>${roleBoxes('new', [])}</fieldset>
    <div class="actions"><button type="submit" class="primary">Add</button></div>
  </form>
</section>`
  : html`<p class="muted">People and roles are managed by admins.</p>`}`,
    { ...chrome, current: 'admin' },
  );
}
