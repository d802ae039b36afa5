import { readFileSync } from 'node:fs';
import path from 'node:path';
import { escapeHtml } from '../domain/merge-fields.js';
import { PACKAGE_ROOT } from '../package-root.js';

export const TEMPLATES_DIR = path.join(PACKAGE_ROOT, 'templates');

const TOKEN = /\{\{(\{?)\s*([A-Za-z][A-Za-z0-9_]*)\s*\}?\}\}/g;

/** A value shown as itself in Markdown: no emphasis, link, heading or raw HTML can come from it. */
export function escapeMarkdown(value: string): string {
  return value.replace(/[\\`*_[\]<>#!|~]/g, (c) => `\\${c}`);
}

function escaperFor(name: string): (value: string) => string {
  if (name.endsWith('.html')) return escapeHtml;
  if (name.endsWith('.md')) return escapeMarkdown;
  return (value) => value;
}

/**
 * A template file with `{{name}}` (escaped for HTML and Markdown files) and `{{{name}}}` (inserted as is).
 * Every variable must be supplied: a typo in a template fails loudly rather than sending a blank.
 */
export class Template {
  readonly variables: ReadonlySet<string>;

  constructor(
    readonly name: string,
    private readonly source: string,
  ) {
    this.variables = new Set([...source.matchAll(TOKEN)].map((m) => m[2]!));
  }

  /** The values of every `attribute="…"` written in the template itself, not in what it is given. */
  attributeValues(attribute: string): string[] {
    return [...this.source.matchAll(new RegExp(`\\s${attribute}="([^"]*)"`, 'g'))].map((m) => m[1]!);
  }

  render(values: Record<string, string>): string {
    const missing = [...this.variables].filter((v) => values[v] === undefined);
    if (missing.length) throw new Error(`template ${this.name} needs ${missing.join(', ')}`);
    const escape = escaperFor(this.name);
    return this.source.replace(TOKEN, (_, raw: string, name: string) => (raw ? values[name]! : escape(values[name]!)));
  }
}

const cache = new Map<string, Template>();

export function template(name: string): Template {
  let loaded = cache.get(name);
  if (!loaded) {
    loaded = new Template(name, readFileSync(path.join(TEMPLATES_DIR, name), 'utf8'));
    cache.set(name, loaded);
  }
  return loaded;
}
