import type { ErrorCode } from '../../services/errors.js';
import { contributorsLine } from '../../services/approval-links.js';
import type { ApprovalReview, VersionChanges } from '../../services/approval-page.js';
import { isOwnDomain } from '../../domain/addresses.js';
import { csrfField, html, localTime, page, type Chrome, type SafeHtml } from './html.js';
import { dryRunTable, retractionStatusLabel } from './retraction.js';
import { testSendForm } from './test-send.js';

export const LINK_STATE_MESSAGES = {
  used: 'This link has already been used to decide. Nothing more can be decided with it.',
  edited: 'The campaign was edited after this link was sent. This link decides nothing; a new request goes out when it is submitted again.',
  closed: 'This campaign is no longer awaiting approval. This link decides nothing.',
  expired: 'This link has expired. It decides nothing; ask the author to submit the campaign again.',
} as const;

const LINK_REFUSALS: Partial<Record<ErrorCode, string>> = {
  link_used: LINK_STATE_MESSAGES.used,
  link_edited: LINK_STATE_MESSAGES.edited,
  link_closed: LINK_STATE_MESSAGES.closed,
  link_expired: LINK_STATE_MESSAGES.expired,
};

/** A refused decision in words for the page: a link's state says more than the API's short message. */
export function decisionRefusal(error: { code: ErrorCode; message: string }): string {
  return LINK_REFUSALS[error.code] ?? error.message;
}

export interface ApprovalPageModel extends ApprovalReview {
  token: string;
  /** Who is signed in, compared with who the link was sent to. */
  viewer: 'approver' | 'signed_out' | 'someone_else';
  error?: { field: string; message: string };
}

function changesSection(changes: VersionChanges | null): SafeHtml | string {
  if (!changes) return '';
  const row = (label: string, c?: { before: string | number; after: string | number }) =>
    c ? html`<dt>${label}</dt><dd><del>${String(c.before)}</del> → <ins>${String(c.after)}</ins></dd>` : '';
  return html`
<section class="panel" aria-labelledby="changes-title" data-testid="changes">
  <h2 id="changes-title">What changed since the version you saw (submitted ${localTime(changes.submittedAt)})</h2>
  <dl class="facts diff">${row('Subject', changes.subject)}${row('Recipients', changes.recipientCount)}${row('Sends', changes.sendAt)}${row('From', changes.from)}</dl>
  ${
    changes.body
      ? html`<pre class="diff">${changes.body.map((line) =>
          line.kind === 'same'
            ? html`  ${line.text}\n`
            : line.kind === 'added'
              ? html`<ins>+ ${line.text}</ins>\n`
              : html`<del>- ${line.text}</del>\n`,
        )}</pre>`
      : html`<p class="muted">The body is unchanged.</p>`
  }
</section>`;
}

function decisionForm(model: ApprovalPageModel, chrome: Chrome): SafeHtml {
  const fieldError = (field: string) =>
    model.error?.field === field ? html`<p class="field-error" id="${field}-error" role="alert">${model.error.message}</p>` : '';
  if (model.viewer === 'signed_out') {
    return html`<div class="panel decision"><h2>Your decision</h2>
<p>This link was sent to <strong>${model.approver.email}</strong>. Sign in as them to approve or reject.</p>
<a class="button primary" href="/sign-in?returnTo=${encodeURIComponent(`/approve/${model.token}`)}">Sign in to decide</a></div>`;
  }
  if (model.viewer === 'someone_else') {
    return html`<div class="panel decision" role="alert"><h2>Your decision</h2>
<p>This link was sent to <strong>${model.approver.email}</strong>, but you are signed in as <strong>${chrome.session!.actor.email}</strong>. Only ${model.approver.name} can decide with it.</p></div>`;
  }
  return html`
${testSendForm(`/approve/${model.token}/test-send`, chrome, model.error?.field === 'test' ? model.error.message : undefined)}
<form method="post" action="/approve/${model.token}" class="decision panel">
  <h2>Your decision</h2>
  ${csrfField(chrome)}
  ${fieldError('form')}
  <label for="recipientCount">To confirm you have read it, type the number of recipients shown above</label>
  <input id="recipientCount" name="recipientCount" inputmode="numeric" autocomplete="off" required aria-describedby="recipientCount-error">
  ${fieldError('recipientCount')}
  <label for="reason">Reason (needed to reject)</label>
  <textarea id="reason" name="reason" rows="3" aria-describedby="reason-error"></textarea>
  ${fieldError('reason')}
  <div class="buttons">
    <button type="submit" name="decision" value="approve" class="primary">Approve</button>
    <button type="submit" name="decision" value="reject" class="danger">Reject</button>
  </div>
  <p class="hint">This link is yours alone and expires ${localTime(model.expiresAt)}.</p>
</form>`;
}

function guardrailsSection(g: ApprovalReview['guardrails']): SafeHtml | string {
  if (!g.applied.length && !g.skipped.length && !g.firstWave) return '';
  return html`
<section class="panel" aria-labelledby="guardrails-title" data-testid="guardrails">
  <h2 id="guardrails-title">What else applies to this send</h2>
  <ul>
    ${g.applied.map((rule) => html`<li>Policy: ${rule}</li>`)}
    ${g.firstWave ? html`<li>First wave: ${g.firstWave.size.toLocaleString('en-US')} recipients get it first; the rest waits ${g.firstWave.holdMinutes} minutes, so a mistake can be halted while it is small.</li>` : ''}
    ${g.skipped.map((s) => html`<li>Skipped: ${s.count.toLocaleString('en-US')} recipient(s), ${s.reason}.</li>`)}
  </ul>
</section>`;
}

const external = (own: boolean) => (own ? '' : html` <span class="badge external">external</span>`);

function messageSection(model: ApprovalPageModel): SafeHtml {
  const { preview, recipientSearch, token } = model;
  const isOwn = (domain: string) => isOwnDomain(domain, model.ownDomains);
  return html`
<section aria-labelledby="message-title">
<h2 id="message-title">The message as <span data-testid="preview-recipient">${preview.recipient.email}</span> gets it</h2>
<form method="get" action="/approve/${token}" class="inline-search" role="search">
  <label for="recipient">Show it as another recipient gets it (search by address)</label>
  <div class="search-row"><input id="recipient" name="recipient" value="${recipientSearch.query}" autocomplete="off"><button type="submit">Show</button></div>
</form>
${recipientSearch.query && recipientSearch.matches.length === 0 ? html`<p class="error" role="status">No recipient’s address contains “${recipientSearch.query}”; showing the first recipient.</p>` : ''}
${
  recipientSearch.matches.length > 1
    ? html`<p class="muted">Matches: ${recipientSearch.matches.map((m, i) => html`${i ? ', ' : ''}<a href="/approve/${token}?recipient=${encodeURIComponent(m.email)}">${m.email}</a>`)}</p>`
    : ''
}
<div class="inbox" data-testid="inbox-line">
  <div class="inbox-from">${preview.from.name} &lt;${preview.from.address}&gt;</div>
  <div class="inbox-subject" data-testid="inbox-subject">${preview.subject}</div>
  <div class="inbox-preheader" data-testid="inbox-preheader">${preview.preheader}</div>
</div>
<iframe class="message" title="The message as HTML" sandbox="allow-same-origin" srcdoc="${preview.html}" data-fit-content></iframe>
<details class="panel" open><summary>The plain-text part</summary><pre class="text-part" data-testid="text-part">${preview.text}</pre></details>
<h3>Links in it</h3>
${
  preview.links.length === 0
    ? html`<p class="muted">The message has no links.</p>`
    : html`<div class="scroll"><table class="grid links" data-testid="links"><thead><tr><th scope="col">Link text</th><th scope="col">Goes to</th><th scope="col">Domain</th></tr></thead>
  <tbody>${preview.links.map((l) => html`<tr><td>${l.text}</td><td><code>${l.href}</code></td><td>${l.domain}${external(isOwn(l.domain))}</td></tr>`)}</tbody></table></div>`
}
</section>`;
}

function audienceSection(model: ApprovalPageModel): SafeHtml {
  const { audience } = model;
  return html`
<section aria-labelledby="audience-title" data-testid="audience">
<h2 id="audience-title">Who gets it: ${audience.total.toLocaleString('en-US')} recipients</h2>
<div class="scroll"><table class="grid"><caption class="muted">By mail domain</caption><thead><tr><th scope="col">Domain</th><th scope="col">Recipients</th></tr></thead>
<tbody>${audience.domains.map((d) => html`<tr><td>${d.domain}${external(d.own)}</td><td>${d.count.toLocaleString('en-US')}</td></tr>`)}</tbody></table></div>
${audience.moreDomains ? html`<p class="muted">…and ${audience.moreDomains} more domain(s).</p>` : ''}
${audience.fields.map(
  (f) => html`
<div class="scroll"><table class="grid" data-field="${f.name}"><caption>Merge field <code>{{${f.name}}}</code>: ${f.distinct.toLocaleString('en-US')} distinct value(s)${f.empty ? html`, <strong class="error">empty for ${f.empty.toLocaleString('en-US')}</strong>` : ''}</caption>
<thead><tr><th scope="col">Value</th><th scope="col">Recipients</th></tr></thead>
<tbody>${f.top.map((v) => html`<tr><td>${v.value}</td><td>${v.count.toLocaleString('en-US')}</td></tr>`)}</tbody></table></div>
${f.distinct > f.top.length ? html`<p class="muted">…and ${(f.distinct - f.top.length).toLocaleString('en-US')} more value(s).</p>` : ''}`,
)}
</section>`;
}

/** A correction whose recall also retracts: the retraction is approved on its own, on the campaign page. */
function retractionSection(model: ApprovalPageModel): SafeHtml | string {
  const r = model.retraction;
  if (!r) return '';
  return html`<section class="panel" aria-labelledby="retraction-title" data-testid="retraction">
  <h2 id="retraction-title">This recall also removes the original from mailboxes (${retractionStatusLabel(r.status)})</h2>
  ${dryRunTable(r)}
  <p>That removal needs its own approval, by ${r.quorum.required} approvers and an admin, on <a href="/campaigns/${r.campaignId}">the original's page</a>. Approving this correction does not approve it.</p>
</section>`;
}

export function approvalPage(model: ApprovalPageModel, chrome: Chrome): string {
  const { campaign } = model;
  const count = campaign.recipient_count ?? 0;
  return page(
    `Review: ${campaign.subject}`,
    html`
<h1>Review before it is sent</h1>
<p class="lead">${model.approver.name}, you are asked to approve this ${campaign.kind === 'correction' ? 'correction' : 'message'}. ${contributorsLine(model.contributors)}.</p>
<dl class="facts">
  <dt>Subject</dt><dd>${campaign.subject}</dd>
  <dt>From</dt><dd>${campaign.from_name} &lt;${campaign.from_address}&gt;</dd>
  <dt>Recipients</dt><dd><strong data-testid="recipient-count">${count.toLocaleString('en-US')}</strong>${
    model.original
      ? html`<br><span data-testid="correction-progress">${model.original.received.toLocaleString('en-US')} received the original so far, ${model.original.inFlight.toLocaleString('en-US')} still in flight: each of those who gets it will get this correction too.</span>`
      : ''
  }</dd>
  <dt>Sends</dt><dd>${model.sendTime}</dd>
  <dt>Who shaped it</dt><dd data-testid="contributors">${contributorsLine(model.contributors)}</dd>
  <dt>Approved so far</dt><dd>${model.approvedBy.length ? model.approvedBy.join(', ') : 'nobody yet'} (${model.approvedBy.length} of ${campaign.required_approvals} needed)</dd>
  <dt>Content hash</dt><dd><code>${campaign.content_hash}</code></dd>
</dl>
${guardrailsSection(model.guardrails)}
${retractionSection(model)}
${changesSection(model.changes)}
${messageSection(model)}
${audienceSection(model)}
${decisionForm(model, chrome)}`,
    chrome,
  );
}
