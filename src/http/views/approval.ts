import type { ErrorCode } from '../../services/errors.js';
import type { ApprovalReview, VersionChanges } from '../../services/approval-page.js';
import { csrfField, html, page, type Chrome, type SafeHtml } from './html.js';

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
  <h2 id="changes-title">What changed since the version you saw (submitted ${changes.submittedAt.toUTCString()})</h2>
  <dl class="facts diff">${row('Subject', changes.subject)}${row('Recipients', changes.recipientCount)}${row('Sends', changes.sendAt)}${row('From', changes.from)}</dl>
  ${changes.body
    ? html`<pre class="diff">${changes.body.map((line) =>
        line.kind === 'same' ? html`  ${line.text}\n` : line.kind === 'added' ? html`<ins>+ ${line.text}</ins>\n` : html`<del>- ${line.text}</del>\n`,
      )}</pre>`
    : html`<p class="muted">The body is unchanged.</p>`}
</section>`;
}

function decisionForm(model: ApprovalPageModel, chrome: Chrome): SafeHtml {
  const fieldError = (field: string) =>
    model.error?.field === field ? html`<p class="field-error" id="${field}-error" role="alert">${model.error.message}</p>` : '';
  if (model.viewer === 'signed_out') {
    return html`<div class="panel decision"><h2>Your decision</h2>
<p>This link was sent to <strong>${model.approver.email}</strong>. Sign in as them to approve or reject.</p>
<a class="button primary" href="/sign-in?returnTo=${encodeURIComponent(`/approve/${model.token}`)}&amp;email=${encodeURIComponent(model.approver.email)}">Sign in to decide</a></div>`;
  }
  if (model.viewer === 'someone_else') {
    return html`<div class="panel decision" role="alert"><h2>Your decision</h2>
<p>This link was sent to <strong>${model.approver.email}</strong>, but you are signed in as <strong>${chrome.session!.actor.email}</strong>. Only ${model.approver.name} can decide with it.</p></div>`;
  }
  return html`
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
  <p class="hint">This link is yours alone and expires ${model.expiresAt.toUTCString()}.</p>
</form>`;
}

export function approvalPage(model: ApprovalPageModel, chrome: Chrome): string {
  const { campaign } = model;
  const count = campaign.recipient_count ?? 0;
  return page(
    `Review: ${campaign.subject}`,
    html`
<h1>Review before it is sent</h1>
<p class="lead">${model.authorName} asks ${model.approver.name} to approve this ${campaign.kind === 'correction' ? 'correction' : 'message'}.</p>
<dl class="facts">
  <dt>Subject</dt><dd>${campaign.subject}</dd>
  <dt>From</dt><dd>${campaign.from_name} &lt;${campaign.from_address}&gt;</dd>
  <dt>Recipients</dt><dd><strong data-testid="recipient-count">${count.toLocaleString('en-US')}</strong></dd>
  <dt>Sends</dt><dd>${model.sendTime}</dd>
  <dt>Written by</dt><dd>${model.authorName}</dd>
  <dt>Approved so far</dt><dd>${model.approvedBy.length ? model.approvedBy.join(', ') : 'nobody yet'} (${model.approvedBy.length} of ${campaign.required_approvals} needed)</dd>
  <dt>Content hash</dt><dd><code>${campaign.content_hash}</code></dd>
</dl>
${changesSection(model.changes)}
<h2>The message, as the first recipient will see it</h2>
<iframe class="message" title="Message preview" sandbox="" srcdoc="${model.messageHtml}"></iframe>
<h2>A sample of the recipients</h2>
<ul class="sample">${model.sample.map((r) => html`<li>${r.name ? `${r.name} <${r.email}>` : r.email}</li>`)}</ul>
${decisionForm(model, chrome)}`,
    chrome,
  );
}
