import type { PendingGrant } from '../../services/people.js';
import type { FailedJob, QueueHealth } from '../../services/queue-health.js';
import type { User } from '../../services/users.js';
import { csrfField, html, page, type Chrome } from './html.js';

export function adminPage(model: { users: User[]; grants: PendingGrant[] }, chrome: Chrome, error?: string): string {
  const { users, grants } = model;
  const actor = chrome.session!.actor;
  const isAdmin = actor.roles.includes('admin');
  const engaged = chrome.killSwitch?.engaged;
  const roleBoxes = (prefix: string, roles: readonly string[]) =>
    (['author', 'approver', 'admin'] as const).map(
      (role) =>
        html`<label><input type="checkbox" name="roles" value="${role}" id="${prefix}-${role}"${roles.includes(role) ? ' checked' : ''}> ${role}</label>`,
    );
  return page(
    'Admin',
    html`
<h1>Admin</h1>
${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<section class="panel" aria-labelledby="kill-title">
  <h2 id="kill-title">Kill switch: <span data-testid="kill-switch-state">${engaged ? 'ENGAGED' : 'off'}</span></h2>
  <p>${engaged ? 'Nothing is sent while it is engaged. Halted campaigns need a fresh approval even after it is released.' : 'Engaging it halts every campaign that is scheduled or sending, at once.'}</p>
  ${
    !engaged && (isAdmin || actor.roles.includes('approver'))
      ? html`<form method="post" action="/admin/halt-all" data-confirm="Halt everything now?">${csrfField(chrome)}<button type="submit" class="danger">Halt everything</button></form>`
      : ''
  }
  ${engaged && isAdmin ? html`<form method="post" action="/admin/resume-all">${csrfField(chrome)}<button type="submit">Release the kill switch</button></form>` : ''}
</section>
${isAdmin ? html`<p><a href="/admin/queues">Queue health</a>: jobs per state, the oldest waiting, and failures.</p>` : ''}
${
  isAdmin
    ? html`<section aria-labelledby="users-title">
  <h2 id="users-title">People and roles</h2>
  ${
    users.length === 1
      ? html`<p class="empty" data-testid="only-you">You are the only person here. Add your colleagues below: authors write campaigns, and approvers other than the author approve each one before it can go. They sign in with their email address.</p>`
      : ''
  }
  <div class="scroll"><table class="grid"><thead><tr><th scope="col">Name</th><th scope="col">Email</th><th scope="col">Roles</th></tr></thead>
  <tbody>${users.map((u) => {
    const self = u.id === actor.id;
    const form = (action: string, label: string) =>
      html`<form method="post" action="/admin/users/${u.id}/${action}" class="inline">${csrfField(chrome)}<button type="submit">${label}</button></form>`;
    return html`<tr${u.disabled_at ? html` class="disabled"` : ''}><td>${u.name}${u.disabled_at ? html` <span class="badge">deactivated</span>` : ''}</td><td>${u.email}</td><td>${
      self
        ? html`${u.roles.join(', ')} <span class="muted">(your own roles: another admin changes them)</span>`
        : html`<form method="post" action="/admin/users/${u.id}/roles" class="inline">${csrfField(chrome)}<fieldset><legend>Roles of ${u.name}</legend>${roleBoxes(u.id, u.roles)}</fieldset><button type="submit">Save roles</button></form>
      ${u.disabled_at ? form('reactivate', 'Reactivate') : form('deactivate', 'Deactivate')}`
    }</td></tr>`;
  })}</tbody></table></div>
  ${
    grants.length
      ? html`<h3>Role grants waiting for a second admin</h3>
  <ul data-testid="pending-grants">${grants.map(
    (g) => html`<li>${g.requester_name} asks to give ${g.user_name} &lt;${g.user_email}&gt; the role(s) ${g.roles.join(', ')}
    ${g.requested_by !== actor.id && g.user_id !== actor.id ? html`<form method="post" action="/admin/grants/${g.id}/confirm" class="inline">${csrfField(chrome)}<button type="submit" class="primary">Confirm</button></form>` : html`<span class="muted">(another admin must confirm)</span>`}
    <form method="post" action="/admin/grants/${g.id}/cancel" class="inline">${csrfField(chrome)}<button type="submit">Cancel</button></form></li>`,
  )}</ul>`
      : ''
  }
  <form method="post" action="/admin/users" class="panel">
    ${csrfField(chrome)}
    <h3>Add a person</h3>
    <label for="new-email">Email</label><input id="new-email" name="email" type="email" required>
    <label for="new-name">Name</label><input id="new-name" name="name" required>
    <fieldset><legend>Roles</legend>${roleBoxes('new', [])}</fieldset>
    <div class="actions"><button type="submit" class="primary">Add</button></div>
  </form>
</section>`
    : html`<p class="muted">People and roles are managed by admins.</p>`
}`,
    { ...chrome, current: 'admin' },
  );
}

const age = (seconds: number) =>
  seconds < 1 ? 'none waiting' : seconds < 120 ? `${Math.round(seconds)} s` : `${Math.round(seconds / 60)} min`;

/** Queue health for admins: counts per state, the oldest waiting job's age, failures with their reasons (never job data). */
export function queuesPage(model: { queues: QueueHealth[]; failures: FailedJob[] }, chrome: Chrome): string {
  const states = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;
  return page(
    'Queues',
    html`<h1>Queues</h1>
<p class="lead">Read from Redis just now. Waiting jobs that grow old mean no worker is taking them: check the worker processes.</p>
<table class="grid" data-testid="queue-counts"><thead><tr><th scope="col">Queue</th>${states.map((s) => html`<th scope="col">${s}</th>`)}<th scope="col">Oldest waiting</th></tr></thead>
<tbody>${model.queues.map(
      (q) =>
        html`<tr><th scope="row">${q.name}</th>${states.map((s) => html`<td>${q.counts[s]}</td>`)}<td>${age(q.oldestWaitingSeconds)}</td></tr>`,
    )}</tbody></table>
<h2>Failed jobs</h2>
${
  model.failures.length
    ? html`<table class="grid" data-testid="queue-failures"><thead><tr><th scope="col">Queue</th><th scope="col">Job</th><th scope="col">Attempts</th><th scope="col">Failed at</th><th scope="col">Reason</th></tr></thead>
<tbody>${model.failures.map(
        (f) =>
          html`<tr><td>${f.queue}</td><td>${f.name} #${f.id}</td><td>${f.attempts}</td><td>${f.failedAt?.toISOString() ?? ''}</td><td>${f.reason}</td></tr>`,
      )}</tbody></table>`
    : html`<p>None.</p>`
}`,
    { ...chrome, current: 'admin' },
  );
}
