import { convert } from 'html-to-text';
import { marked, type Token, type Tokens } from 'marked';
import sanitizeHtml from 'sanitize-html';

/**
 * Bumped whenever the same Markdown would render to different bytes. It is part of the
 * content hash, and a worker refuses a campaign approved under another version: approvers
 * approve what recipients get, not only the source.
 * 1: marked output as is, text part = the Markdown source. 2: sanitised, text and preheader from the HTML.
 */
export const RENDERER_VERSION = 2;

/** The only link targets a message may carry. */
const LINK_SCHEMES = ['http', 'https', 'mailto'];

const SANITISE: sanitizeHtml.IOptions = {
  allowedTags: [
    'p',
    'br',
    'h1',
    'h2',
    'h3',
    'h4',
    'h5',
    'h6',
    'ul',
    'ol',
    'li',
    'strong',
    'em',
    'del',
    'blockquote',
    'code',
    'pre',
    'hr',
    'table',
    'thead',
    'tbody',
    'tr',
    'th',
    'td',
    'a',
  ],
  allowedAttributes: { a: ['href'], th: ['align'], td: ['align'], ol: ['start'] },
  allowedSchemes: LINK_SCHEMES,
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  // A link to somewhere relative means nothing in an inbox: keep its text, drop the target.
  transformTags: {
    a: (tagName, attribs) => ({
      tagName,
      attribs: isAllowedTarget(attribs.href ?? '') ? { href: attribs.href! } : ({} as sanitizeHtml.Attributes),
    }),
  },
  disallowedTagsMode: 'discard',
};

function isAllowedTarget(href: string): boolean {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(href.trim())?.[1]?.toLowerCase();
  return scheme !== undefined && LINK_SCHEMES.includes(scheme);
}

export interface BodyProblem {
  line: number;
  message: string;
}

/**
 * What the body may not hold, each with the line it starts on: raw HTML (comments, conditional
 * comments, scripts, styles, forms, frames, hidden text — anything an approver might not see the
 * way a recipient's client shows it), images, and links to anything but http(s) or mailto, or
 * with a merge field in their address. Markdown covers everything a policy message needs.
 */
export function bodyProblems(markdown: string): BodyProblem[] {
  const source = markdown.replace(/\r\n?/g, '\n');
  const problems: BodyProblem[] = [];
  const lineAt = (offset: number) => source.slice(0, Math.max(0, offset)).split('\n').length;
  const visit = (tokens: Token[], from: number) => {
    let cursor = from;
    for (const token of tokens) {
      const found = source.indexOf(token.raw, cursor);
      const at = found >= 0 ? found : cursor;
      if (found >= 0 && token.type !== 'space') cursor = found;
      const problem = problemOf(token);
      if (problem) problems.push({ line: lineAt(at), message: problem });
      const children = childTokens(token);
      if (children.length) visit(children, at);
      if (found >= 0) cursor = found + token.raw.length;
    }
  };
  visit(marked.lexer(source, { gfm: true }), 0);
  return problems;
}

function childTokens(token: Token): Token[] {
  const withItems = token as Tokens.List;
  if (token.type === 'list') return withItems.items.flatMap((item) => item.tokens);
  if (token.type === 'table') {
    const table = token as Tokens.Table;
    return [...table.header, ...table.rows.flat()].flatMap((cell) => cell.tokens);
  }
  return 'tokens' in token && Array.isArray(token.tokens) ? token.tokens : [];
}

function problemOf(token: Token): string | null {
  if (token.type === 'html') {
    const snippet = token.raw.trim().slice(0, 40);
    return `raw HTML is not allowed in a message (${snippet}${token.raw.trim().length > 40 ? '…' : ''}); write it in Markdown`;
  }
  if (token.type === 'image') return 'images are not allowed in a message; link to the picture instead';
  // A definition shows nothing by itself; a link that uses one is checked with the definition's address.
  if (token.type === 'link') {
    const href = (token as Tokens.Link).href;
    if (safeDecode(href).includes('{{')) return "a link's address cannot contain a merge field";
    if (!isAllowedTarget(href)) return `links may only go to http:, https: or mailto: addresses, not "${href.slice(0, 60)}"`;
  }
  return null;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** A body rendered once per campaign, merge fields still in place: per recipient only the fields change. */
export interface PreparedBody {
  /** The sanitised HTML of the body. */
  html: string;
  /** The plain-text part, from the same HTML: readable text, each link as its text and then its address. */
  text: string;
  /** The start of the rendered text, for the inbox line beside the subject. */
  preview: string;
}

export function prepareBody(markdown: string): PreparedBody {
  const html = sanitizeHtml(marked.parse(markdown, { async: false, gfm: true }), SANITISE);
  return { html, text: htmlToText(html), preview: previewOf(html) };
}

const HEADINGS = ['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } }));

function htmlToText(html: string): string {
  return convert(html, {
    wordwrap: false,
    selectors: [
      ...HEADINGS,
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['<', '>'] } },
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
    ],
  }).trim();
}

const PREVIEW_CHARS = 400;

function previewOf(html: string): string {
  const text = convert(html, {
    wordwrap: false,
    selectors: [...HEADINGS, { selector: 'a', options: { ignoreHref: true } }, { selector: 'ul', options: { itemPrefix: ' ' } }],
  });
  return text.replace(/\s+/g, ' ').trim().slice(0, PREVIEW_CHARS);
}

export interface MessageLink {
  text: string;
  href: string;
  /** The host a link goes to, or the domain of a mailto: address. */
  domain: string;
}

/** Every link of a rendered body, in order, with where it really goes. */
export function linksIn(html: string): MessageLink[] {
  const links: MessageLink[] = [];
  for (const match of html.matchAll(/<a href="([^"]*)">([\s\S]*?)<\/a>/g)) {
    const href = decodeEntities(match[1]!);
    links.push({ href, text: decodeEntities(match[2]!.replace(/<[^>]*>/g, '')), domain: domainOf(href) });
  }
  return links;
}

function domainOf(href: string): string {
  if (/^mailto:/i.test(href)) return (href.slice(7).split('?')[0]!.split('@')[1] ?? '').toLowerCase();
  try {
    return new URL(href).hostname.toLowerCase();
  } catch {
    return '';
  }
}

function decodeEntities(value: string): string {
  return value
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;|&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
