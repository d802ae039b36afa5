import { describe, expect, it } from 'vitest';
import { diffLines, type DiffLine } from '../../src/domain/line-diff.js';

const same = (text: string): DiffLine => ({ kind: 'same', text });
const added = (text: string): DiffLine => ({ kind: 'added', text });
const removed = (text: string): DiffLine => ({ kind: 'removed', text });

/** The two bodies a diff claims to describe: an approver reading it must be able to trust both. */
function sides(diff: DiffLine[]): { before: string; after: string } {
  return {
    before: diff
      .filter((l) => l.kind !== 'added')
      .map((l) => l.text)
      .join('\n'),
    after: diff
      .filter((l) => l.kind !== 'removed')
      .map((l) => l.text)
      .join('\n'),
  };
}

describe('diffLines (what an approver sees changed in a resubmitted body)', () => {
  it('shows an unchanged body as the same lines, nothing added or removed', () => {
    const body = '# Travel policy\n\nHello {{firstName}},\nthe policy starts on Monday.';
    expect(diffLines(body, body)).toEqual(['# Travel policy', '', 'Hello {{firstName}},', 'the policy starts on Monday.'].map(same));
  });

  it('shows an edited line as the old line removed, then the new one added, in place', () => {
    expect(diffLines('Hello,\nthe policy starts on Monday.\nThanks', 'Hello,\nthe policy starts on Tuesday.\nThanks')).toEqual([
      same('Hello,'),
      removed('the policy starts on Monday.'),
      added('the policy starts on Tuesday.'),
      same('Thanks'),
    ]);
  });

  it('shows a paragraph added in the middle, at its place', () => {
    expect(diffLines('Hello,\nThanks', 'Hello,\nBring your badge.\nNo exceptions.\nThanks')).toEqual([
      same('Hello,'),
      added('Bring your badge.'),
      added('No exceptions.'),
      same('Thanks'),
    ]);
  });

  it('shows lines removed at the start and at the end', () => {
    expect(diffLines('DRAFT\nHello,\nThanks\nP.S. ignore this', 'Hello,\nThanks')).toEqual([
      removed('DRAFT'),
      same('Hello,'),
      same('Thanks'),
      removed('P.S. ignore this'),
    ]);
  });

  it('keeps as many repeated lines as both versions share, and shows only the extra one', () => {
    expect(diffLines('-\n-\n-', '-\n-')).toEqual([same('-'), same('-'), removed('-')]);
    expect(diffLines('a\n\nb', 'a\n\n\nb')).toEqual([same('a'), same(''), added(''), same('b')]);
  });

  it('matches repeated lines to keep the most lines unchanged', () => {
    const diff = diffLines('x\na\nb\na\nc', 'a\nb\nc\na\nc');
    expect(diff.filter((l) => l.kind === 'same').map((l) => l.text)).toEqual(['a', 'b', 'a', 'c']);
    expect(diff.filter((l) => l.kind === 'removed')).toEqual([removed('x')]);
    expect(diff.filter((l) => l.kind === 'added')).toEqual([added('c')]);
  });

  it('shows a body replaced wholesale as every old line removed and every new line added', () => {
    expect(diffLines('one\ntwo', 'three\nfour')).toEqual([removed('one'), removed('two'), added('three'), added('four')]);
  });

  it('treats an empty body as a single empty line', () => {
    expect(diffLines('', 'Hello\nThanks')).toEqual([removed(''), added('Hello'), added('Thanks')]);
    expect(diffLines('Hello\nThanks', '')).toEqual([removed('Hello'), removed('Thanks'), added('')]);
    expect(diffLines('', '')).toEqual([same('')]);
  });

  it('shows a trailing newline added or removed as an empty line', () => {
    expect(diffLines('Thanks', 'Thanks\n')).toEqual([same('Thanks'), added('')]);
    expect(diffLines('Thanks\n', 'Thanks')).toEqual([same('Thanks'), removed('')]);
  });

  it('compares lines exactly: case and spaces count', () => {
    expect(diffLines('Hello ', 'Hello')).toEqual([removed('Hello '), added('Hello')]);
    expect(diffLines('hello', 'Hello')).toEqual([removed('hello'), added('Hello')]);
  });

  it.each([
    ['a\nb\nc', 'a\nc\nb'],
    ['a\na\nb\nb', 'b\nb\na\na'],
    ['x\ny\nx\ny\nx', 'y\nx\ny'],
    ['', 'a'],
    ['same\n\n\nsame', '\nsame\n'],
    ['1\n2\n3\n4\n5\n6', '6\n5\n4\n3\n2\n1'],
  ])('lets both versions be read back from the diff of %j and %j', (before, after) => {
    expect(sides(diffLines(before, after))).toEqual({ before, after });
  });

  it('keeps the longest run of lines in common unchanged', () => {
    // Longest common subsequence of 1..6 and its reverse is one line; of these two, three lines.
    expect(diffLines('1\n2\n3\n4\n5\n6', '6\n5\n4\n3\n2\n1').filter((l) => l.kind === 'same')).toHaveLength(1);
    expect(
      diffLines('a\nb\nc\nd\ne', 'b\nx\nd\ny\ne')
        .filter((l) => l.kind === 'same')
        .map((l) => l.text),
    ).toEqual(['b', 'd', 'e']);
  });
});
