import { csrfField, html, localTime, page, type Chrome } from './html.js';

export interface AccountModel {
  tokens: { id: string; label: string; created_at: Date; revoked_at: Date | null }[];
  /** A token just created: shown this once, never again. */
  created?: { label: string; token: string };
  labelError?: string;
}

export function accountPage(model: AccountModel, chrome: Chrome): string {
  const actor = chrome.session!.actor;
  const active = model.tokens.filter((t) => !t.revoked_at);
  return page(
    'Your account',
    html`
<h1>Your account</h1>
<dl class="facts">
  <dt>Name</dt><dd>${actor.name}</dd>
  <dt>Email</dt><dd>${actor.email}</dd>
  <dt>Roles</dt><dd>${actor.roles.join(', ') || 'none'} <span class="muted">(an admin changes them)</span></dd>
</dl>
<section aria-labelledby="tokens-title">
  <h2 id="tokens-title">API tokens</h2>
  <p>A script or another tool calls the API as you with a token: <code>Authorization: Bearer &lt;token&gt;</code>. Revoke a token as soon as nothing uses it.</p>
  ${
    model.created
      ? html`<div class="token-once" role="status" data-testid="new-token">
    <p><strong>Your new token “${model.created.label}”.</strong> Copy it now: it is shown only this once, and only its hash is kept.</p>
    <code data-testid="new-token-value">${model.created.token}</code>
  </div>`
      : ''
  }
  ${
    active.length === 0
      ? html`<p class="empty" data-testid="no-tokens">You have no active API tokens. Create one below when a script needs to call the API.</p>`
      : html`<div class="scroll"><table class="grid" data-testid="tokens"><thead><tr><th scope="col">Name</th><th scope="col">Created</th><th scope="col"><span class="visually-hidden">Action</span></th></tr></thead>
  <tbody>${active.map(
    (t) =>
      html`<tr><td>${t.label}</td><td>${localTime(t.created_at)}</td><td><form method="post" action="/account/tokens/${t.id}/revoke" class="inline" data-confirm="Revoke the token “${t.label}”? Anything using it stops working at once.">${csrfField(chrome)}<button type="submit" aria-label="Revoke ${t.label}">Revoke</button></form></td></tr>`,
  )}</tbody></table></div>`
  }
  <form method="post" action="/account/tokens" class="panel">
    ${csrfField(chrome)}
    <label for="token-label">Name of a new token (what will use it)</label>
    <input id="token-label" name="label" required maxlength="100"${model.labelError ? html` aria-describedby="token-label-error" aria-invalid="true"` : ''}>
    ${model.labelError ? html`<p class="field-error" id="token-label-error" role="alert">${model.labelError}</p>` : ''}
    <div class="actions"><button type="submit" class="primary">Create token</button></div>
  </form>
</section>`,
    { ...chrome, current: 'account' },
  );
}
