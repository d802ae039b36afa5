import { html, page, type SafeHtml } from './html.js';

type Json = Record<string, unknown>;

const pretty = (value: unknown) => html`<pre class="schema">${JSON.stringify(value, null, 2)}</pre>`;

function parametersTable(parameters: Json[]): SafeHtml {
  if (!parameters.length) return html``;
  return html`<table><thead><tr><th>parameter</th><th>in</th><th>required</th><th>schema</th></tr></thead><tbody>${parameters.map(
    (p) =>
      html`<tr><td><code>${String(p.name)}</code></td><td>${String(p.in)}</td><td>${p.required ? 'yes' : 'no'}</td><td><code>${JSON.stringify(p.schema)}</code></td></tr>`,
  )}</tbody></table>`;
}

function contentBlocks(content: Json | undefined): SafeHtml[] {
  return Object.entries(content ?? {}).map(([type, media]) => {
    const { schema, example } = media as { schema?: unknown; example?: unknown };
    return html`<p><code>${type}</code></p>
${example !== undefined ? html`<p class="hint">Example</p>${typeof example === 'string' ? html`<pre class="schema">${example}</pre>` : pretty(example)}` : ''}
<details><summary>Schema</summary>${pretty(schema)}</details>`;
  });
}

function operationSection(path: string, method: string, op: Json): SafeHtml {
  const responses = Object.entries(op.responses as Record<string, Json>);
  const body = op.requestBody as Json | undefined;
  return html`<section class="operation" id="${String(op.operationId)}">
<h2><code>${method.toUpperCase()} ${path}</code></h2>
<p>${String(op.summary)} ${String(op.description)}</p>
${parametersTable(op.parameters as Json[])}
${body ? html`<h3>Request body${body.required ? '' : ' (optional)'}</h3>${contentBlocks(body.content as Json)}` : ''}
<h3>Responses</h3>
<dl>${responses.map(([status, response]) => html`<dt>${status}</dt><dd>${String(response.description)}${contentBlocks(response.content as Json).length && !status.startsWith('4') ? contentBlocks(response.content as Json) : ''}</dd>`)}</dl>
</section>`;
}

/** The API reference, rendered on the server from the OpenAPI document: no script needed to read it. */
export function apiReferencePage(document: Json): string {
  const info = document.info as Json;
  const paths = Object.entries(document.paths as Record<string, Record<string, Json>>);
  const errorSchema = ((document.components as Json).schemas as Json).Error;
  return page(
    'API reference',
    html`<h1>${String(info.title)}</h1>
<p class="lead">${String(info.description)}</p>
<p>Base URL <code>${String((document.servers as Json[])[0]!.url)}</code>; send <code>Authorization: Bearer &lt;token&gt;</code>. The machine-readable document: <a href="/api/v1/openapi.json">/api/v1/openapi.json</a> (OpenAPI ${String(document.openapi)}).</p>
<h2>Errors</h2><p>Every refusal has this shape; bad input is a 400 naming each field and changes nothing.</p>${pretty(errorSchema)}
<nav aria-label="Operations"><ul>${paths.flatMap(([path, methods]) =>
      Object.entries(methods).map(
        ([method, op]) =>
          html`<li><a href="#${String(op.operationId)}"><code>${method.toUpperCase()} ${path}</code></a> ${String(op.summary)}</li>`,
      ),
    )}</ul></nav>
${paths.flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => operationSection(path, method, op)))}`,
  );
}
