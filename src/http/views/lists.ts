import { csrfField, html, page, type Chrome } from './html.js';

export function listsPage(lists: { id: string; name: string; memberCount: number }[], chrome: Chrome, error?: string): string {
  return page(
    'Lists',
    html`
<h1>Recipient lists</h1>
${
  lists.length === 0
    ? html`<p class="empty" data-testid="no-lists">No lists yet. Name your first list below and create it; then import its members from a CSV file, or paste them. A campaign can also go to addresses pasted into it, without a list.</p>`
    : html`<div class="scroll"><table class="grid"><thead><tr><th scope="col">List</th><th scope="col">Members</th></tr></thead>
<tbody>${lists.map((l) => html`<tr><td><a href="/lists/${l.id}">${l.name}</a></td><td>${l.memberCount.toLocaleString('en-US')}</td></tr>`)}</tbody></table></div>`
}
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
  preview?: {
    rows: { email: string; name: string; fields: Record<string, string> }[];
    bad: { field: string; message: string }[];
    total: number;
  };
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
  ${
    model.preview
      ? html`<div data-testid="import-preview">
    ${
      model.preview.bad.length
        ? html`<p class="error" role="alert">${model.preview.bad.length} problem(s) — nothing will be imported until they are fixed:</p><ul>${model.preview.bad.map((b) => html`<li><strong>${b.field}</strong>: ${b.message}</li>`)}</ul>`
        : html`<p>${model.preview.total} rows are valid. The first ones:</p>`
    }
    <div class="scroll"><table class="grid"><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Fields</th></tr></thead>
    <tbody>${model.preview.rows.map((r) => html`<tr><td>${r.email}</td><td>${r.name}</td><td><code>${JSON.stringify(r.fields)}</code></td></tr>`)}</tbody></table></div></div>`
      : ''
  }
</section>
<section aria-labelledby="members-title">
  <h2 id="members-title">Members (${model.total.toLocaleString('en-US')})</h2>
  <form method="get" action="/lists/${list.id}" role="search">
    <label for="q">Search by address or name</label>
    <input id="q" name="q" value="${model.search}">
    <div class="actions"><button type="submit">Search</button></div>
  </form>
  ${
    model.members.length === 0
      ? html`<p class="empty" data-testid="no-members">${model.search ? `No member’s address or name contains “${model.search}”.` : 'No members yet: import them from a CSV file above.'}</p>`
      : html`<div class="scroll"><table class="grid"><thead><tr><th scope="col">Email</th><th scope="col">Name</th><th scope="col">Fields</th></tr></thead>
  <tbody>${model.members.map((m) => html`<tr><td>${m.email}</td><td>${m.name}</td><td><code>${JSON.stringify(m.fields)}</code></td></tr>`)}</tbody></table></div>`
  }
  <div class="actions">
    ${model.offset > 0 ? html`<a class="button" href="${query(Math.max(0, model.offset - model.pageSize))}">Previous</a>` : ''}
    ${next ? html`<a class="button" href="${query(model.offset + model.pageSize)}">Next</a>` : ''}
  </div>
</section>`,
    { ...chrome, current: 'lists' },
  );
}
