import { describe, expect, it } from 'vitest';
import {
  availableFields,
  BUILTIN_FIELDS,
  checkMergeFields,
  escapeHtml,
  mergeFieldsIn,
  mergeValues,
  renderMerge,
  unfilledMergeFields,
} from '../../src/domain/merge-fields.js';

describe('mergeFieldsIn', () => {
  it('finds the fields a text uses, sorted and without repeats', () => {
    expect(mergeFieldsIn('Hi {{firstName}}, your {{team}} and {{firstName}} again')).toEqual(['firstName', 'team']);
  });

  it('collects across several texts (subject and body)', () => {
    expect(mergeFieldsIn('About {{site}}', 'Dear {{name}}, see {{site}} and {{manager}}')).toEqual(['manager', 'name', 'site']);
  });

  it('allows spaces inside the braces', () => {
    expect(mergeFieldsIn('{{ name }} {{  team_2}}')).toEqual(['name', 'team_2']);
  });

  it('finds nothing when no field is used', () => {
    expect(mergeFieldsIn('plain text', '')).toEqual([]);
    expect(mergeFieldsIn()).toEqual([]);
  });

  it('ignores what is not a field reference', () => {
    expect(mergeFieldsIn('{name} {{1abc}} {{ }} {{first-name}} {{_x}} {{a b}} {{{}}')).toEqual([]);
  });

  it('is case-sensitive', () => {
    expect(mergeFieldsIn('{{Name}} {{name}}')).toEqual(['Name', 'name']);
  });

  it('can be called repeatedly (no regex state leaks between calls)', () => {
    const text = '{{a}} {{b}}';
    expect(mergeFieldsIn(text)).toEqual(['a', 'b']);
    expect(mergeFieldsIn(text)).toEqual(['a', 'b']);
  });
});

describe('mergeValues', () => {
  const values = (name: string, fields: Record<string, string> = {}) => mergeValues({ email: 'ada@example.com', name, fields });

  it('derives firstName and lastName from the name', () => {
    expect(values('Ada Lovelace')).toMatchObject({ name: 'Ada Lovelace', firstName: 'Ada', lastName: 'Lovelace' });
  });

  it('puts everything after the first word in lastName', () => {
    expect(values('Jean Claude Van Damme')).toMatchObject({ firstName: 'Jean', lastName: 'Claude Van Damme' });
  });

  it('ignores outer whitespace and collapses runs of inner whitespace', () => {
    expect(values('  Ada \t  Lovelace   King ')).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace King' });
  });

  it('a single word is the first name; the last name is empty', () => {
    expect(values('Ada')).toMatchObject({ firstName: 'Ada', lastName: '' });
  });

  it('an empty or blank name gives empty first and last names', () => {
    expect(values('')).toMatchObject({ name: '', firstName: '', lastName: '' });
    expect(values('   ')).toMatchObject({ firstName: '', lastName: '' });
  });

  it('carries the email and the custom fields', () => {
    expect(values('Ada', { team: 'ops', site: 'London' })).toEqual({
      team: 'ops',
      site: 'London',
      email: 'ada@example.com',
      name: 'Ada',
      firstName: 'Ada',
      lastName: '',
    });
  });

  it('built-in fields win over custom fields of the same name', () => {
    const v = values('Ada Lovelace', { email: 'spoof@evil.test', name: 'X', firstName: 'Y', lastName: 'Z' });
    expect(v).toMatchObject({ email: 'ada@example.com', name: 'Ada Lovelace', firstName: 'Ada', lastName: 'Lovelace' });
  });
});

describe('renderMerge', () => {
  it('replaces each field with its value', () => {
    expect(renderMerge('Hi {{firstName}} of {{ team }}!', { firstName: 'Ada', team: 'ops' })).toBe('Hi Ada of ops!');
  });

  it('replaces every occurrence', () => {
    expect(renderMerge('{{a}}-{{a}}-{{a}}', { a: 'x' })).toBe('x-x-x');
  });

  it('renders a missing value as empty text', () => {
    expect(renderMerge('Hi {{unknown}}.', {})).toBe('Hi .');
  });

  it('leaves text that is not a field reference alone', () => {
    expect(renderMerge('{single} {{1x}} {{a-b}}', { single: 'S', '1x': 'X' })).toBe('{single} {{1x}} {{a-b}}');
  });

  it('applies the escape function to values only, never to the template', () => {
    const html = '<p class="x">Hi {{name}} &amp; welcome</p>';
    expect(renderMerge(html, { name: '<script>alert("x")</script>' }, escapeHtml)).toBe(
      '<p class="x">Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; welcome</p>',
    );
  });

  it('does not escape without an escape function (plain text parts)', () => {
    expect(renderMerge('Hi {{name}}', { name: 'A & B <c>' })).toBe('Hi A & B <c>');
  });

  it('does not expand merge syntax found inside a value', () => {
    expect(renderMerge('Hi {{name}}', { name: '{{email}}', email: 'secret@example.com' })).toBe('Hi {{email}}');
  });

  it('treats $-patterns in values literally', () => {
    expect(renderMerge('Pay {{amount}}', { amount: "$& $1 $$ $` $'" })).toBe("Pay $& $1 $$ $` $'");
  });

  it('renders from mergeValues end to end', () => {
    const values = mergeValues({ email: 'ada@example.com', name: 'Ada Lovelace', fields: { team: 'R&D' } });
    expect(renderMerge('<b>{{lastName}}</b>, {{firstName}} ({{email}}) in {{team}}', values, escapeHtml)).toBe(
      '<b>Lovelace</b>, Ada (ada@example.com) in R&amp;D',
    );
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-special characters', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&amp;&lt;&gt;&quot;&#39;');
  });

  it('escapes an ampersand first, so existing entities are not left live', () => {
    expect(escapeHtml('&lt;')).toBe('&amp;lt;');
  });

  it('leaves other text as it is', () => {
    expect(escapeHtml('Grüße, 100% {ok}')).toBe('Grüße, 100% {ok}');
  });
});

describe('unfilledMergeFields', () => {
  it('never reports the built-in fields, which every recipient has', () => {
    expect(unfilledMergeFields([...BUILTIN_FIELDS], new Map(), 10)).toEqual([]);
    expect([...BUILTIN_FIELDS].sort()).toEqual(['email', 'firstName', 'lastName', 'name']);
  });

  it('reports an unknown field as missing for every recipient', () => {
    expect(unfilledMergeFields(['manager'], new Map([['team', 10]]), 10)).toEqual([{ field: 'manager', missing: 10 }]);
  });

  it('reports a field some recipients lack, with how many lack it', () => {
    expect(unfilledMergeFields(['team'], new Map([['team', 7]]), 10)).toEqual([{ field: 'team', missing: 3 }]);
  });

  it('does not report a field every recipient has', () => {
    expect(unfilledMergeFields(['team'], new Map([['team', 10]]), 10)).toEqual([]);
  });

  it('reports only the problem fields among several, in the order used', () => {
    const coverage = new Map([
      ['team', 10],
      ['site', 9],
    ]);
    expect(unfilledMergeFields(['site', 'firstName', 'team', 'manager'], coverage, 10)).toEqual([
      { field: 'site', missing: 1 },
      { field: 'manager', missing: 10 },
    ]);
  });

  it('works with the fields found by mergeFieldsIn', () => {
    const used = mergeFieldsIn('Dear {{firstName}} of {{team}}', 'Ask {{manager}}');
    expect(unfilledMergeFields(used, new Map([['team', 2]]), 3)).toEqual([
      { field: 'manager', missing: 3 },
      { field: 'team', missing: 1 },
    ]);
  });
});

describe('renderMerge and names every object has', () => {
  const values = mergeValues({ email: 'a@x.example.com', name: 'Ada', fields: {} });
  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty'])('{{%s}} renders empty, as any unknown field', (name) => {
    expect(renderMerge(`Hi {{${name}}}`, values)).toBe('Hi ');
    expect(renderMerge(`Hi {{${name}}}`, values, escapeHtml)).toBe('Hi ');
  });
});

describe('checkMergeFields', () => {
  // 120 recipients: all named, 100 with a surname; a desk column 90 of them fill, and a region column nobody fills.
  const audience = {
    recipients: 120,
    filled: new Map([
      ['email', 120],
      ['name', 120],
      ['firstName', 120],
      ['lastName', 100],
      ['desk', 90],
      ['region', 0],
    ]),
  };

  it('flags a field no recipient has, with the field it most likely meant', () => {
    expect(checkMergeFields(['fristName', 'dsk', 'favouriteColour'], audience).unknown).toEqual([
      { field: 'fristName', suggestion: 'firstName' },
      { field: 'dsk', suggestion: 'desk' },
      { field: 'favouriteColour', suggestion: null },
    ]);
  });

  it('counts the recipients for whom a known field is empty; submit refuses an empty column, not an empty built-in field', () => {
    expect(checkMergeFields(['firstName', 'lastName', 'desk', 'region', 'email'], audience)).toEqual({
      unknown: [],
      empty: [
        { field: 'lastName', empty: 20, refusedAtSubmit: false },
        { field: 'desk', empty: 30, refusedAtSubmit: true },
        { field: 'region', empty: 120, refusedAtSubmit: true },
      ],
    });
  });

  it('knows the built-in fields even before any recipient is chosen, and nothing else', () => {
    const nobody = { recipients: 0, filled: new Map<string, number>() };
    expect(checkMergeFields(['name', 'desk'], nobody)).toEqual({ unknown: [{ field: 'desk', suggestion: null }], empty: [] });
    expect(availableFields(nobody)).toEqual([...BUILTIN_FIELDS]);
  });

  it('lists the built-in fields first, then the columns in order', () => {
    expect(availableFields(audience)).toEqual(['email', 'name', 'firstName', 'lastName', 'desk', 'region']);
  });

  it('is case-sensitive, as rendering is, but suggests across case', () => {
    expect(checkMergeFields(['FirstName'], audience).unknown).toEqual([{ field: 'FirstName', suggestion: 'firstName' }]);
  });
});
