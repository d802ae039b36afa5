import { escapeHtml } from '../../domain/merge-fields.js';

/** Markup that is already safe; everything else interpolated into `html` is escaped. */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Interpolation = SafeHtml | string | number | boolean | null | undefined | Interpolation[];

function render(value: Interpolation): string {
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map(render).join('');
  if (value instanceof SafeHtml) return value.value;
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: Interpolation[]): SafeHtml {
  return new SafeHtml(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]!) : ''), ''));
}

export interface Chrome {
  session?: { csrfToken: string; actor: { id: string; name: string; email: string; roles: readonly string[] } } | null;
  killSwitch?: { engaged: boolean; by?: string; at?: string };
  notice?: string;
  current?: 'campaigns' | 'new' | 'lists' | 'admin' | 'account';
}

/** A time the page's script shows in the reader's own zone; without the script, in UTC. */
export function localTime(date: Date): SafeHtml {
  return html`<time datetime="${date.toISOString()}" data-local>${date.toUTCString()}</time>`;
}

export function csrfField(chrome: Chrome): SafeHtml {
  return chrome.session ? html`<input type="hidden" name="_csrf" value="${chrome.session.csrfToken}">` : html``;
}

function nav(chrome: Chrome): SafeHtml {
  const session = chrome.session;
  if (!session) return html`<nav aria-label="Main"><a href="/sign-in">Sign in</a></nav>`;
  const link = (href: string, label: string, key: Chrome['current']) =>
    html`<a href="${href}"${chrome.current === key ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav aria-label="Main">
  ${link('/', 'Campaigns', 'campaigns')}
  ${session.actor.roles.includes('author') ? link('/campaigns/new', 'New campaign', 'new') : ''}
  ${link('/lists', 'Lists', 'lists')}
  ${link('/admin', 'Admin', 'admin')}
  <a class="who" href="/account" title="Your account and API tokens"${chrome.current === 'account' ? html` aria-current="page"` : ''}>${session.actor.name}</a>
  <form method="post" action="/sign-out" class="inline">${csrfField(chrome)}<button type="submit" class="link">Sign out</button></form>
</nav>`;
}

export function page(title: string, body: SafeHtml, chrome: Chrome = {}): string {
  const engaged = chrome.killSwitch?.engaged;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex">
<title>${title} · Countersign</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="top"><a class="brand" href="/">Countersign</a>${nav(chrome)}</header>
${engaged ? html`<div class="kill-banner" role="alert" data-testid="kill-switch-banner">Kill switch engaged${chrome.killSwitch?.by ? ` by ${chrome.killSwitch.by}` : ''}: nothing is being sent until an admin resumes.</div>` : ''}
<main id="main" tabindex="-1">
${chrome.notice ? html`<p class="notice" role="status">${chrome.notice}</p>` : ''}
${body}
</main>
</body>
</html>`.value;
}

/** A page that only tells the visitor one thing: an outcome, a refusal, a missing page; `next` is where to go from it. */
export function messagePage(title: string, message: string, chrome: Chrome = {}, next?: { href: string; label: string }): string {
  return page(
    title,
    html`<h1>${title}</h1><p class="notice" role="status">${message}</p>${next ? html`<p><a href="${next.href}">${next.label}</a></p>` : ''}`,
    chrome,
  );
}
