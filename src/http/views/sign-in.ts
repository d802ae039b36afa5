import type { ErrorCode } from '../../services/errors.js';
import type { SignInLinkState } from '../../services/sessions.js';
import { html, page, type Chrome } from './html.js';

export const SIGN_IN_MESSAGES: Record<Exclude<SignInLinkState, 'valid'>, string> = {
  invalid: 'This sign-in link is not valid.',
  used: 'This sign-in link has already been used. Ask for a new one.',
  expired: 'This sign-in link has expired. Ask for a new one.',
  other_browser:
    'This sign-in link works only in the browser where you asked for it. Open it there, or type the code from the same email into that browser. You can also ask for a new link here.',
};

const SIGN_IN_REFUSALS: Partial<Record<ErrorCode, string>> = {
  sign_in_invalid: SIGN_IN_MESSAGES.invalid,
  sign_in_used: SIGN_IN_MESSAGES.used,
  sign_in_expired: SIGN_IN_MESSAGES.expired,
  sign_in_other_browser: SIGN_IN_MESSAGES.other_browser,
};

/** A refused sign-in in words for the page. */
export function signInRefusal(error: { code: ErrorCode; message: string }): string {
  return SIGN_IN_REFUSALS[error.code] ?? error.message;
}

export function signInPage(options: { returnTo: string; email?: string; error?: string }, chrome: Chrome): string {
  return page(
    'Sign in',
    html`
<h1>Sign in</h1>
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/sign-in" class="panel">
  <input type="hidden" name="returnTo" value="${options.returnTo}">
  <label for="email">Your work email</label>
  <input id="email" name="email" type="email" autocomplete="email" required value="${options.email ?? ''}">
  <div class="actions"><button type="submit" class="primary">Email me a sign-in link</button></div>
</form>
<p><a href="/sign-in/code">I have a code from a sign-in email</a></p>`,
    chrome,
  );
}

/** After asking, and whenever a person has a code: the code from the email, typed into the browser that asked. */
export function signInCodePage(options: { sent?: boolean; error?: string }, chrome: Chrome): string {
  return page(
    'Sign in',
    html`
<h1>Sign in</h1>
${
  options.sent
    ? html`<p class="notice" role="status" data-testid="sign-in-sent">If that address belongs to a Countersign user, a sign-in link and a code are on their way. Open the link in this browser, or type the code here.</p>`
    : ''
}
${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
<form method="post" action="/sign-in/code" class="panel">
  <label for="code">The code from the sign-in email</label>
  <input id="code" name="code" autocomplete="one-time-code" autocapitalize="characters" spellcheck="false" required aria-describedby="code-hint">
  <p class="hint" id="code-hint">Reading the email on another device, such as your phone? Type its code (like <code>ABCD-2345</code>) here, in this browser: it works only in the browser where you asked for it, once, for 15 minutes.</p>
  <div class="actions"><button type="submit" class="primary">Sign in with the code</button></div>
</form>
<p><a href="/sign-in">Ask for a new link</a></p>`,
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
