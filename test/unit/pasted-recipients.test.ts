import { describe, expect, it } from 'vitest';
import { parsePastedRecipients } from '../../src/domain/pasted-recipients.js';

const person = (email: string, name = '') => ({ email, name, fields: {} });

describe('parsePastedRecipients (the compose form\'s "more recipients" box)', () => {
  it('takes bare addresses, one per line, normalised', () => {
    expect(parsePastedRecipients('ann@corp.example.com\n  Bob.Ray@Corp.Example.COM  ')).toEqual({
      recipients: [person('ann@corp.example.com'), person('bob.ray@corp.example.com')],
      errors: [],
    });
  });

  it('takes "Name <address>", with or without quotes around the name', () => {
    const pasted =
      'Ann Lee <ann@corp.example.com>\n"Ray, Bob" <bob@corp.example.com>\nLee, Cho <cho@corp.example.com>\n<dee@corp.example.com>';
    expect(parsePastedRecipients(pasted).recipients).toEqual([
      person('ann@corp.example.com', 'Ann Lee'),
      person('bob@corp.example.com', 'Ray, Bob'),
      person('cho@corp.example.com', 'Lee, Cho'),
      person('dee@corp.example.com'),
    ]);
  });

  it('takes "address, name" and the same with a semicolon or a tab (a spreadsheet row)', () => {
    const pasted = 'ann@corp.example.com, Ann Lee\nbob@corp.example.com;Bob Ray\ncho@corp.example.com\tCho Park';
    expect(parsePastedRecipients(pasted).recipients).toEqual([
      person('ann@corp.example.com', 'Ann Lee'),
      person('bob@corp.example.com', 'Bob Ray'),
      person('cho@corp.example.com', 'Cho Park'),
    ]);
  });

  it.each([
    ['commas', 'ann@corp.example.com, bob@corp.example.com,cho@corp.example.com'],
    ['semicolons', 'ann@corp.example.com; bob@corp.example.com;cho@corp.example.com;'],
    ['tabs', 'ann@corp.example.com\tbob@corp.example.com\tcho@corp.example.com'],
  ])('takes several bare addresses on one line parted by %s, each as its own recipient', (_label, pasted) => {
    expect(parsePastedRecipients(pasted)).toEqual({
      recipients: [person('ann@corp.example.com'), person('bob@corp.example.com'), person('cho@corp.example.com')],
      errors: [],
    });
  });

  it('takes a line copied from a mail client, names and all', () => {
    expect(parsePastedRecipients('Ann Lee <ann@corp.example.com>, Bob Ray <bob@corp.example.com>').recipients).toEqual([
      person('ann@corp.example.com', 'Ann Lee'),
      person('bob@corp.example.com', 'Bob Ray'),
    ]);
    // Outlook parts entries with ';' and writes names "Last, First".
    expect(parsePastedRecipients('Lee, Ann <ann@corp.example.com>; Ray, Bob <bob@corp.example.com>').recipients).toEqual([
      person('ann@corp.example.com', 'Lee, Ann'),
      person('bob@corp.example.com', 'Ray, Bob'),
    ]);
  });

  it('skips blank and whitespace-only lines, and handles Windows line ends', () => {
    expect(parsePastedRecipients('\r\nann@corp.example.com\r\n   \r\n\t\r\nbob@corp.example.com\r\n\r\n')).toEqual({
      recipients: [person('ann@corp.example.com'), person('bob@corp.example.com')],
      errors: [],
    });
    expect(parsePastedRecipients('')).toEqual({ recipients: [], errors: [] });
  });

  it('keeps the first of duplicate addresses, however they are written', () => {
    const pasted = 'Ann Lee <ann@corp.example.com>\nbob@corp.example.com\nANN@Corp.Example.com, Someone Else\n ann@corp.example.com';
    expect(parsePastedRecipients(pasted)).toEqual({
      recipients: [person('ann@corp.example.com', 'Ann Lee'), person('bob@corp.example.com')],
      errors: [],
    });
  });

  it('names each bad line by its number in the box, counting blank lines, and says what is wrong', () => {
    const pasted = [
      'ann@corp.example.com',
      '',
      'Bob Ray',
      'cho(at)corp.example.com',
      'dee@corp.example.com',
      'Eve <eve@corp.example.com',
    ].join('\n');
    const { recipients, errors } = parsePastedRecipients(pasted);
    expect(errors).toEqual([
      { line: 3, message: '"Bob Ray": is not a valid email address' },
      { line: 4, message: '"cho(at)corp.example.com": is not a valid email address' },
      { line: 6, message: '"Eve <eve@corp.example.com": is not a valid email address' },
    ]);
    expect(recipients).toEqual([person('ann@corp.example.com'), person('dee@corp.example.com')]);
  });

  it('names the bad entry on a line that holds several', () => {
    expect(parsePastedRecipients('ann@corp.example.com\nbob@corp.example.com; cho@corp; dee@corp.example.com')).toEqual({
      recipients: [person('ann@corp.example.com'), person('bob@corp.example.com'), person('dee@corp.example.com')],
      errors: [{ line: 2, message: '"cho@corp": is not a valid email address' }],
    });
  });

  it('refuses a name too long for a mail header', () => {
    const { recipients, errors } = parsePastedRecipients(`${'N'.repeat(201)} <ann@corp.example.com>`);
    expect(recipients).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(1);
  });
});
