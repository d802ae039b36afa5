import type { ErrorCode } from '../../services/errors.js';
import type { SignInLinkState } from '../../services/sessions.js';
import { html, page, type Chrome } from './html.js';

export const SIGN_IN_MESSAGES: Record<Exclude<SignInLinkState, 'valid'>, string> = {
  invalid: 'This sign-in link is not valid.',
  used: 'This sign-in link has already been used. Ask for a new one.',
  expired: 'This sign-in link has expired. Ask for a new one.',
  other_browser: 'This sign-in link works only in the browser where you asked for it. Open it there, or ask for a new link here.',
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
