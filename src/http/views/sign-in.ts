import { html, page, type Chrome } from './html.js';

export function signInPage(options: { returnTo: string; email?: string; sent?: boolean; error?: string }, chrome: Chrome): string {
  return page(
    'Sign in',
    html`
<h1>Sign in</h1>
${options.sent
  ? html`<p class="notice" role="status" data-testid="sign-in-sent">If that address belongs to a Countersign user, a sign-in link is on its way. Open it in this browser.</p>`
  : ''}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/sign-in" class="panel">
  <input type="hidden" name="returnTo" value="${options.returnTo}">
  <label for="email">Your work email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${options.email ?? ''}">
  <div class="actions"><button type="submit" class="primary">Email me a sign-in link</button></div>
</form>`,
    chrome,
  );
}

export function signInLinkPage(token: string, chrome: Chrome): string {
  return page(
    'Sign in',
    html`
<h1>Sign in to Countersign</h1>
<form method="post" action="/sign-in/${token}" class="panel">
  <p>Press the button to finish signing in on this browser.</p>
  <button type="submit" class="primary">Sign in</button>
</form>`,
    chrome,
  );
}
