import { describe, expect, it } from 'vitest';
import { bodyProblems, linksIn, prepareBody } from '../../src/mail/body.js';

/** Each way to show recipients something approvers might not see, with the line it is on. */
const HIDDEN: [string, string, number][] = [
  ['an HTML comment', 'Hello\n\n<!-- only in the source -->\n', 3],
  ['an Outlook conditional comment', 'Hello\n\n<!--[if mso]>Only Outlook shows this<![endif]-->\n', 3],
  ['a script', 'Hello\n\nText\n\n<script>alert(1)</script>\n', 5],
  ['a style block', '<style>p { display: none }</style>\n\nHello', 1],
  ['a form', 'Hello\n\n<form action="https://evil.example.net"><input name="password"></form>', 3],
  ['an iframe', 'Hello <iframe src="https://evil.example.net"></iframe>', 1],
  ['an inline event handler', 'Hello\n\n<a href="https://intranet.example.com" onclick="steal()">x</a>', 3],
  ['hidden text', 'Hello <span style="display:none">secret</span> world', 1],
  ['raw HTML inside a list item', 'Hello\n\n- one\n- two <b>bold</b>\n', 4],
  ['raw HTML inside a quote', 'Hello\n\n> quoted <i>x</i>\n', 3],
];

describe('bodyProblems', () => {
  it.each(HIDDEN)('refuses %s, naming its line', (_what, body, line) => {
    const problems = bodyProblems(body);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatchObject({ line, message: expect.stringMatching(/raw HTML is not allowed/) });
  });

  it('refuses javascript:, data: and relative link targets', () => {
    expect(bodyProblems('[click](javascript:alert(1))')).toEqual([{ line: 1, message: expect.stringMatching(/http:, https: or mailto:/) }]);
    expect(bodyProblems('Hi\n\n[x](data:text/html;base64,PHNjcmlwdD4=)')).toEqual([
      { line: 3, message: expect.stringMatching(/http:, https: or mailto:/) },
    ]);
    expect(bodyProblems('[x](/relative/path)')).toHaveLength(1);
  });

  it('refuses images, and merge fields in a link address', () => {
    expect(bodyProblems('Hi\n![pixel](https://tracker.example.net/p.gif)')).toEqual([
      { line: 2, message: expect.stringMatching(/images are not allowed/) },
    ]);
    expect(bodyProblems('[yours](https://intranet.example.com/u/{{id}})')).toEqual([
      { line: 1, message: expect.stringMatching(/merge field/) },
    ]);
  });

  it('accepts ordinary Markdown, and HTML shown as code', () => {
    const body =
      '# Title\n\nHello **{{firstName}}**, see [the policy](https://intranet.example.com/p).\n\n- a\n- b\n\n```\n<script>shown as code</script>\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |\n';
    expect(bodyProblems(body)).toEqual([]);
  });

  it('counts lines of a CRLF body as a person does', () => {
    expect(bodyProblems('one\r\ntwo\r\n\r\n<b>x</b>')[0]?.line).toBe(4);
  });
});

describe('prepareBody', () => {
  it('keeps nothing hidden even if raw HTML reached it: no comments, scripts, styles, forms, frames or handlers', () => {
    const body = HIDDEN.map(([, b]) => b).join('\n\n') + '\n\n[x](javascript:alert(1))';
    const { html, text, preview } = prepareBody(body);
    for (const part of [html, text, preview]) {
      expect(part).not.toMatch(/<!--|<script|<style|<form|<iframe|<input|onclick|display:\s*none|javascript:|\[if mso\]/i);
    }
    expect(html).not.toContain('<span');
  });

  it('makes a text part with no Markdown markers, each link as its text and its address', () => {
    const { text } = prepareBody(
      '# Travel policy\n\nHello **{{firstName}}**, _please_ read [the policy](https://intranet.example.com/travel).\n\n- one\n- two',
    );
    expect(text).not.toMatch(/\*\*|(^|\s)_|#|\]\(/);
    expect(text).toContain('Travel policy');
    expect(text).toContain('Hello {{firstName}}, please read the policy <https://intranet.example.com/travel>');
    expect(text).toMatch(/one[\s\S]*two/);
  });

  it('takes the preview from the rendered text, so a Markdown comment never becomes the inbox snippet', () => {
    const { preview, html, text } = prepareBody('[//]: # (a snippet nobody approved)\n\nThe canteen opens at **eight**.');
    expect(preview).toBe('The canteen opens at eight.');
    expect(html + text).not.toContain('snippet nobody approved');
  });

  it('lists every link with where it really goes', () => {
    const { html } = prepareBody(
      '[Intranet](https://intranet.example.com/a?b=1&c=2) and [mail us](mailto:help@Example.com) and https://evil.example.net/x',
    );
    expect(linksIn(html)).toEqual([
      { text: 'Intranet', href: 'https://intranet.example.com/a?b=1&c=2', domain: 'intranet.example.com' },
      { text: 'mail us', href: 'mailto:help@Example.com', domain: 'example.com' },
      { text: 'https://evil.example.net/x', href: 'https://evil.example.net/x', domain: 'evil.example.net' },
    ]);
  });
});
