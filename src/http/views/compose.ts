import type { DraftPreview } from '../../services/previews.js';
import { csrfField, html, page, type Chrome } from './html.js';

export interface ComposeModel {
  action: string;
  values: { subject: string; body: string; listIds: string[]; recipients: string; sendAtLocal: string; timeZone: string };
  lists: { id: string; name: string; member_count: number }[];
  timeZones: string[];
  errors: Record<string, string>;
  preview?: DraftPreview;
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
  <iframe class="message" id="preview" title="Preview for a sample recipient" sandbox="" srcdoc="${model.preview?.html ?? '<p>Press Preview to see the message as a sample recipient will.</p>'}"></iframe>
</section>
</div>`,
    { ...chrome, current: model.editing ? 'campaigns' : 'new' },
  );
}
