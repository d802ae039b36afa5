/** A one-time link's token in text: what follows /approve/ or /sign-in/ in a URL or path. */
const LINK_TOKEN = /\/(approve|sign-in)\/[A-Za-z0-9_-]{8,}/g;

/** Text safe to show or log: every approval or sign-in link's token replaced, so the text cannot be used to decide or sign in. */
export function redactLinks(text: string): string {
  return text.replace(LINK_TOKEN, '/$1/[redacted]');
}
