import { csrfField, html, type Chrome, type SafeHtml } from './html.js';

/** "Send a test to me", on the compose page and the approval page: the message as one recipient gets it, to the signed-in person only. */
export function testSendForm(action: string, chrome: Chrome, error: string | undefined): SafeHtml {
  return html`
<form method="post" action="${action}" class="panel" data-testid="test-send">
  <h2>Send a test to yourself</h2>
  ${csrfField(chrome)}
  <label for="test-recipient">Rendered as this recipient gets it (an address, or part of one; empty for the first)</label>
  <div class="search-row"><input id="test-recipient" name="recipient" autocomplete="off"${error ? html` aria-describedby="test-error" aria-invalid="true"` : ''}><button type="submit">Send a test to me</button></div>
  ${error ? html`<p class="field-error" id="test-error" role="alert">${error}</p>` : ''}
  <p class="hint">It goes to ${chrome.session!.actor.email} only, marked [Test]; it is not counted and not in the ledger.</p>
</form>`;
}
