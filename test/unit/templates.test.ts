import { describe, expect, it } from 'vitest';
import { bodyProblems, prepareBody } from '../../src/mail/body.js';
import { escapeMarkdown, template } from '../../src/mail/templates.js';

describe('templates', () => {
  it('a correction of a subject full of Markdown and HTML is still a body that renders, and shows the subject as written', () => {
    const subject = 'Use <b>this</b> *now* [here](javascript:x) # 1_000 `code`';
    const body = template('correction.md').render({
      originalSubject: subject,
      originalSentAt: 'Mon, 30 Nov 2026 09:00:00 GMT',
      note: 'Ignore <i>it</i>.',
    });
    expect(bodyProblems(body)).toEqual([]);
    const { text } = prepareBody(body);
    expect(text).toContain(`The message "${subject}" that we sent you on Mon, 30 Nov 2026 09:00:00 GMT was sent in error.`);
    expect(text).toContain('Ignore <i>it</i>.');
  });

  it('escapes every Markdown character that could change what a value shows', () => {
    expect(escapeMarkdown('a*b_c[d]e<f>g#h!i|j~k`l\\m')).toBe('a\\*b\\_c\\[d\\]e\\<f\\>g\\#h\\!i\\|j\\~k\\`l\\\\m');
  });

  it('refuses to render with a variable missing: a typo fails loudly rather than sending a blank', () => {
    expect(() => template('correction.md').render({ originalSubject: 'x', note: '' })).toThrow(/needs originalSentAt/);
  });
});
