import { BUILTIN_FIELDS, type MergeFieldFindings } from '../../domain/merge-fields.js';
import type { DraftPreview } from '../../services/previews.js';
import { csrfField, html, page, type Chrome, type SafeHtml } from './html.js';
import { testSendForm } from './test-send.js';

const field = (name: string) => html`<code>{{${name}}}</code>`;
const count = (n: number) => n.toLocaleString('en-US');

/** The merge fields a message can use with the chosen recipients. */
export function fieldNames(preview: Pick<DraftPreview, 'fields'> | undefined): SafeHtml {
  const fields = preview?.fields ?? [...BUILTIN_FIELDS];
  return html`Fields you can use: ${fields.map((name, i) => html`${i ? ', ' : ''}${field(name)}`)}`;
}

/** What would go wrong with the message as it stands: merge fields that render blank, and what saving would refuse. */
export function draftWarnings(preview: Pick<DraftPreview, 'count' | 'mergeFields' | 'problems'> | undefined): SafeHtml {
  if (!preview) return html``;
  const { unknown, empty }: MergeFieldFindings = preview.mergeFields;
  return html`${unknown.map(
    (u) =>
      html`<li>${field(u.field)} is not a field of ${preview.count ? 'these recipients' : 'any chosen list'}: it would be blank for everyone, so submitting is refused.${u.suggestion ? html` Did you mean ${field(u.suggestion)}?` : ''}</li>`,
  )}${empty.map(
    (e) =>
      html`<li>${field(e.field)} is empty for ${count(e.empty)} of ${count(preview.count)} recipients: ${e.refusedAtSubmit ? 'submitting is refused until each has a value, or the message does without it.' : 'they would see a blank.'}</li>`,
  )}${preview.problems.map((problem) => html`<li>Saving will refuse this: ${problem}</li>`)}`;
}

export interface ComposeModel {
  action: string;
  values: { subject: string; body: string; listIds: string[]; recipients: string; sendAtLocal: string; timeZone: string };
  lists: { id: string; name: string; memberCount: number }[];
  timeZones: string[];
  errors: Record<string, string>;
  preview?: DraftPreview;
  editing: boolean;
  /** Where a saved draft's "send a test to me" posts; none until the draft is saved. */
  testSendAction?: string;
}

export function composePage(model: ComposeModel, chrome: Chrome): string {
  const { values, errors } = model;
  const error = (field: string) =>
    errors[field] ? html`<p class="field-error" id="${field}-error" role="alert">${errors[field]}</p>` : '';
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
  <label for="body">Message (Markdown, with merge fields such as {{firstName}})</label>
  <textarea id="body" name="body" class="body" required aria-describedby="field-names merge-warnings${errors.body ? ' body-error' : ''}"${errors.body ? html` aria-invalid="true"` : ''}>${values.body}</textarea>
  <p class="field-names" id="field-names">${fieldNames(model.preview)}</p>
  <ul class="warnings" id="merge-warnings" aria-live="polite" data-testid="merge-warnings">${draftWarnings(model.preview)}</ul>
  ${error('body')}
  <fieldset${described('lists')}>
    <legend>Lists</legend>
    ${model.lists.length === 0 ? html`<p class="muted">No lists yet: <a href="/lists">create one</a> or paste addresses below.</p>` : ''}
    ${model.lists.map(
      (list) =>
        html`<label><input type="checkbox" name="listIds" value="${list.id}"${values.listIds.includes(list.id) ? ' checked' : ''}> ${list.name} (${list.memberCount.toLocaleString('en-US')})</label>`,
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
    <button type="submit" name="intent" value="review" class="primary">Save and review before submitting</button>
    <button type="submit" name="intent" value="save">Save draft</button>
    <button type="submit" name="intent" value="preview">Preview</button>
  </div>
</form>
<section aria-labelledby="preview-title">
  <h2 id="preview-title">Preview</h2>
  <p>Recipients: <strong data-testid="audience-count" id="audience-count">${model.preview ? model.preview.count.toLocaleString('en-US') : '—'}</strong></p>
  <iframe class="message" id="preview" title="Preview for a sample recipient" sandbox="allow-same-origin" data-fit-content srcdoc="${model.preview?.html ?? '<p>Press Preview to see the message as a sample recipient will.</p>'}"></iframe>
${model.testSendAction ? testSendForm(model.testSendAction, chrome, errors.test) : ''}
</section>
</div>`,
    { ...chrome, current: model.editing ? 'campaigns' : 'new' },
  );
}
