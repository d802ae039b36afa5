import type { User } from '../../services/users.js';
import { csrfField, html, page, type Chrome } from './html.js';

export function adminPage(users: User[], chrome: Chrome, error?: string): string {
  const actor = chrome.session!.actor;
  const isAdmin = actor.roles.includes('admin');
  const engaged = chrome.killSwitch?.engaged;
  const roleBoxes = (prefix: string, roles: readonly string[]) =>
    (['author', 'approver', 'admin'] as const).map(
      (role) => html`<label><input type="checkbox" name="roles" value="${role}" id="${prefix}-${role}"${roles.includes(role) ? ' checked' : ''}> ${role}</label>`,
    );
  return page(
    'Admin',
    html`
<h1>Admin</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<section class="panel" aria-labelledby="kill-title">
  <h2 id="kill-title">Kill switch: <span data-testid="kill-switch-state">${engaged ? 'ENGAGED' : 'off'}</span></h2>
  <p>${engaged ? 'Nothing is sent while it is engaged. Halted campaigns need a fresh approval even after it is released.' : 'Engaging it halts every campaign that is scheduled or sending, at once.'}</p>
  ${!engaged && (isAdmin || actor.roles.includes('approver'))
    ? html`<form method="post" action="/admin/halt-all" data-confirm="Halt everything now?">${csrfField(chrome)}<button type="submit" class="danger">Halt everything</button></form>`
    : ''}
  ${engaged && isAdmin ? html`<form method="post" action="/admin/resume-all">${csrfField(chrome)}<button type="submit">Release the kill switch</button></form>` : ''}
</section>
${isAdmin
  ? html`<section aria-labelledby="users-title">
  <h2 id="users-title">People and roles</h2>
  <table class="grid"><thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Roles</th></tr></thead>
  <tbody>${users.map(
    (u) => html`<tr><td>${u.name}</td><td>${u.email}</td><td><form method="post" action="/admin/users/${u.id}/roles" class="inline">${csrfField(chrome)}<fieldset><legend>Roles of ${u.name}</legend>${roleBoxes(u.id, u.roles)}</fieldset><button type="submit">Save roles</button></form></td></tr>`,
  )}</tbody></table>
  <form method="post" action="/admin/users" class="panel">
    ${csrfField(chrome)}
    <h3>Add a person</h3>
    <label for="new-email">Email</label><input id="new-email" name="email" type="email" required>
    <label for="new-name">Name</label><input id="new-name" name="name" required>
    <fieldset><legend>Roles</legend>${roleBoxes('new', [])}</fieldset>
    <div class="actions"><button type="submit" class="primary">Add</button></div>
  </form>
</section>`
  : html`<p class="muted">People and roles are managed by admins.</p>`}`,
    { ...chrome, current: 'admin' },
  );
}
