import type { AuditLine } from '../../services/campaign-pages.js';
import { html, type SafeHtml } from './html.js';

/** The audit trail as sentences, newest last; the recorded event itself is one click away. */
export function auditTrail(lines: AuditLine[], when: (date: Date) => SafeHtml): SafeHtml {
  if (lines.length === 0) return html`<p class="muted">Nothing has happened to this campaign yet.</p>`;
  return html`<ol class="audit" data-testid="audit-trail">${lines.map(
    (line) => html`<li><div>${when(line.at)}</div><div><p class="audit-sentence">${line.sentence}</p>
<details><summary>Details</summary><dl class="facts"><dt>Action</dt><dd><code>${line.action}</code></dd><dt>By</dt><dd>${line.who}</dd><dt>Recorded</dt><dd><pre>${JSON.stringify(line.data, null, 2)}</pre></dd></dl></details></div></li>`,
  )}</ol>`;
}
