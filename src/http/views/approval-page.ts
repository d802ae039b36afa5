import type { CampaignRow } from '../../db/schema.js';
import { html, page } from './html.js';

export interface ApprovalPageModel {
  token: string;
  campaign: CampaignRow;
  approverName: string;
  authorName: string;
  approvedBy: string[];
  messageHtml: string;
  sample: { email: string; name: string }[];
  sendTime: string;
  expiresAt: Date;
  error?: { field: string; message: string };
}

export function approvalPage(model: ApprovalPageModel): string {
  const { campaign } = model;
  const count = campaign.recipient_count ?? 0;
  const fieldError = (field: string) =>
    model.error?.field === field ? html`<p class="error" id="${field}-error" role="alert">${model.error.message}</p>` : '';
  return page(
    `Review: ${campaign.subject}`,
    html`
<h1>Review before it is sent</h1>
<p class="lead">${model.authorName} asks you, ${model.approverName}, to approve this message.</p>
<dl class="facts">
  <dt>Subject</dt><dd>${campaign.subject}</dd>
  <dt>From</dt><dd>${campaign.from_name} &lt;${campaign.from_address}&gt;</dd>
  <dt>Recipients</dt><dd><strong data-testid="recipient-count">${count.toLocaleString('en-US')}</strong></dd>
  <dt>Sends</dt><dd>${model.sendTime}</dd>
  <dt>Written by</dt><dd>${model.authorName}</dd>
  <dt>Approved so far</dt><dd>${model.approvedBy.length ? model.approvedBy.join(', ') : 'nobody yet'} (${model.approvedBy.length} of ${campaign.required_approvals} needed)</dd>
  <dt>Content hash</dt><dd><code>${campaign.content_hash}</code></dd>
</dl>
<h2>The message, as the first recipient will see it</h2>
<iframe class="message" title="Message preview" sandbox="" srcdoc="${model.messageHtml}"></iframe>
<h2>A sample of the recipients</h2>
<ul class="sample">${model.sample.map((r) => html`<li>${r.name ? `${r.name} <${r.email}>` : r.email}</li>`)}</ul>
<form method="post" action="/approve/${model.token}" class="decision">
  <h2>Your decision</h2>
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
</form>`,
  );
}

export function linkMessagePage(title: string, message: string, status = 'notice'): string {
  return page(title, html`<h1>${title}</h1><p class="${status}" role="status">${message}</p>`);
}
