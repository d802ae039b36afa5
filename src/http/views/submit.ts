import type { SubmitReview } from '../../services/submit-review.js';
import { draftWarnings } from './compose.js';
import { csrfField, html, localTime, page, type Chrome } from './html.js';

const SUBMITTABLE = ['draft', 'halted'];

/** The confirmation step before submit: the audience size and anything that would render blank. */
export function submitReviewPage(review: SubmitReview, chrome: Chrome, error?: string): string {
  const { campaign, checks } = review;
  const count = review.recipients.toLocaleString('en-US');
  const sources = [
    ...review.listNames.map((name) => `the list “${name}”`),
    ...(review.pasted ? [`${review.pasted.toLocaleString('en-US')} pasted address${review.pasted === 1 ? '' : 'es'}`] : []),
  ];
  const warnings = draftWarnings(checks ?? undefined);
  const title = review.resuming ? 'Ask for approval to resume' : 'Submit for approval';
  return page(
    `${title}: ${campaign.subject}`,
    html`
<p><a href="/campaigns/${campaign.id}">← Back to the campaign</a></p>
<h1>${title}?</h1>
${error ? html`<p class="error" role="alert" data-testid="submit-error">Not submitted: ${error}</p>` : ''}
<div class="panel" data-testid="submit-review">
  <p class="lead">“${campaign.subject}”</p>
  <p>It goes to <strong data-testid="confirm-count">${count}</strong> recipient${review.recipients === 1 ? '' : 's'}${
    review.resuming
      ? html`: the rest of the audience it was approved for.`
      : html`${sources.length ? html`, from ${sources.join(' and ')}` : ''}. Submitting freezes that audience and the message; anyone who has left or opted out is skipped.`
  }</p>
  <p>${campaign.send_at ? html`It sends at ${localTime(campaign.send_at)} at the earliest` : 'It sends as soon as it is approved'}, after ${campaign.required_approvals} approvals. Approvers are emailed a link to review it.</p>
  ${warnings.value ? html`<h2>Check before you submit</h2><ul class="warnings" data-testid="submit-warnings">${warnings}</ul>` : ''}
</div>
${
  SUBMITTABLE.includes(campaign.status)
    ? html`<form method="post" action="/campaigns/${campaign.id}/submit" class="actions">
  ${csrfField(chrome)}
  <input type="hidden" name="expectedCount" value="${review.recipients}">
  <button type="submit" class="primary">${review.resuming ? 'Ask for approval to resume' : `Submit to ${count} recipients for approval`}</button>
  ${review.resuming ? '' : html`<a class="button" href="/campaigns/${campaign.id}/edit">Edit it first</a>`}
</form>`
    : html`<p class="notice">This campaign is ${campaign.status.replace('_', ' ')}: there is nothing to submit.</p>`
}`,
    chrome,
  );
}
