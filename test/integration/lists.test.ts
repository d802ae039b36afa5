import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageSnapshot } from '../../src/db/campaigns.js';
import { AudienceDigest, type SnapshotRecipient } from '../../src/domain/content-hash.js';
import { Harness, testDb } from '../support/harness.js';

interface Issue {
  field: string;
  message: string;
}
interface Member {
  email: string;
  name: string;
  fields: Record<string, string>;
}

describe('lists: CSV and JSON import, members, and audiences built from them', () => {
  let h: Harness;

  beforeAll(async () => {
    // Workers stay off: nothing here needs mail to go out.
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  async function newList(name: string): Promise<string> {
    const created = await h.api('author', 'POST', '/lists', { name });
    expect(created.status, created.text).toBe(201);
    return created.body.id as string;
  }

  const importCsv = (listId: string, csv: string) =>
    h.api('author', 'POST', `/lists/${listId}/members`, csv, { 'content-type': 'text/csv' });
  const importJson = (listId: string, body: unknown) => h.api('author', 'POST', `/lists/${listId}/members`, body);

  async function members(listId: string, query = 'limit=1000'): Promise<Member[]> {
    const response = await h.api('author', 'GET', `/lists/${listId}/members?${query}`);
    expect(response.status, response.text).toBe(200);
    return response.body.members as Member[];
  }

  async function memberCountShown(listId: string): Promise<number> {
    const lists = await h.api('author', 'GET', '/lists');
    const list = (lists.body.lists as { id: string; memberCount: number }[]).find((l) => l.id === listId)!;
    return list.memberCount;
  }

  const auditCount = async () =>
    Number(
      (
        await h.db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );

  it('imports a CSV: addresses normalised, duplicates merged, extra columns become merge fields', async () => {
    const listId = await newList('Finance and Legal');
    const csv = [
      'email,name,department,location',
      '  Alice.Smith@Corp.Example.COM ,Alice Smith,Finance,London',
      'bob@corp.example.com,Bob Jones,Legal,',
      'ALICE.SMITH@corp.example.com,,,Paris',
      '" Carol@CORP.example.com ",Carol White,Engineering,Berlin',
      '',
    ].join('\r\n');
    const imported = await importCsv(listId, csv);
    expect(imported.status, imported.text).toBe(200);
    expect(imported.body).toEqual({ listId, imported: 3, mergedDuplicates: 1, memberCount: 3 });

    expect(await members(listId)).toEqual([
      // The later row adds what it has; an empty cell neither blanks the name nor adds a field.
      { email: 'alice.smith@corp.example.com', name: 'Alice Smith', fields: { department: 'Finance', location: 'Paris' } },
      { email: 'bob@corp.example.com', name: 'Bob Jones', fields: { department: 'Legal' } },
      { email: 'carol@corp.example.com', name: 'Carol White', fields: { department: 'Engineering', location: 'Berlin' } },
    ]);
    expect(await memberCountShown(listId)).toBe(3);

    // Importing the same people again updates them rather than adding anyone.
    const again = await importCsv(listId, 'email,name,department\nBOB@corp.example.com,Robert Jones,Legal\n');
    expect(again.body).toEqual({ listId, imported: 1, mergedDuplicates: 0, memberCount: 3 });
    expect((await members(listId, 'q=bob')).map((m) => m.name)).toEqual(['Robert Jones']);

    // The extra columns are merge fields a campaign can use: every member has {{department}}.
    const campaign = await h.api('author', 'POST', '/campaigns', {
      subject: 'Travel policy for {{department}}',
      body: 'Hello {{firstName}}, the {{department}} team follows the new travel policy.',
      audience: { listIds: [listId] },
    });
    expect(campaign.status, campaign.text).toBe(201);
    const submitted = await h.api('author', 'POST', `/campaigns/${campaign.body.id}/submit`);
    expect(submitted.status, submitted.text).toBe(200);
    expect(submitted.body).toMatchObject({ status: 'pending_approval', recipientCount: 3 });

    // {{location}} is missing for Bob: the campaign says so instead of sending him a blank.
    const partial = await h.api('author', 'POST', '/campaigns', {
      subject: 'Office move',
      body: 'Hello {{firstName}}, your office in {{location}} moves.',
      audience: { listIds: [listId] },
    });
    const refused = await h.api('author', 'POST', `/campaigns/${partial.body.id}/submit`);
    expect(refused.status).toBe(400);
    expect(refused.body.issues).toEqual([
      { field: 'body', message: expect.stringMatching(/\{\{location\}\} has no value for 1 of 3 recipients/) },
    ]);
  });

  it('refuses a CSV with bad rows, naming each by line number, and imports nothing', async () => {
    const listId = await newList('Operations');
    const seeded = await importCsv(listId, 'email,name\nzoe@corp.example.com,Zoe Adams\nyuri@corp.example.com,Yuri Bell\n');
    expect(seeded.body).toMatchObject({ imported: 2, memberCount: 2 });
    const before = await members(listId);
    const auditBefore = await auditCount();

    const csv = [
      'email,name,team', // line 1
      'dan@corp.example.com,Dan Brown,Ops', // line 2: fine
      'dan.corp.example.com,Erin Gray,Ops', // line 3: no @
      'frank@corp.example.com,Frank Hill,Ops', // line 4: fine
      'grace@corp..example.com,Grace Ives,Ops', // line 5: double dot
      'zoe@corp.example.com,Zoe Adams-Renamed,Ops', // line 6: fine, but must not be applied either
    ].join('\n');
    const response = await importCsv(listId, csv);
    expect(response.status, response.text).toBe(400);
    expect(response.body.error).toBe('invalid_input');
    const issues = response.body.issues as Issue[];
    expect(issues.map((i) => i.field)).toEqual(['line 3.email', 'line 5.email']);
    for (const issue of issues) expect(issue.message).toMatch(/not a valid email address/);
    expect(response.body.message).toContain('line 3.email');

    expect(await members(listId)).toEqual(before);
    expect(await memberCountShown(listId)).toBe(2);
    expect(await auditCount()).toBe(auditBefore);

    // A header injection attempt in a quoted cell is refused the same way, by its line
    // (the record starts on line 3 and ends on line 4; either points the user at it).
    const injected = await importCsv(
      listId,
      'email,name\nivan@corp.example.com,Ivan Jones\njudy@corp.example.com,"Judy\nBcc: everyone@corp.example.com"\n',
    );
    expect(injected.status).toBe(400);
    expect((injected.body.issues as Issue[]).map((i) => i.field)).toEqual([expect.stringMatching(/^line [34]\.name$/)]);
    expect((injected.body.issues as Issue[])[0]!.message).toMatch(/line breaks/);
    expect(await members(listId)).toEqual(before);
  });

  it('keeps line numbers true after a quoted cell that spans lines', async () => {
    const listId = await newList('Multi-line cells');
    // Ivan's row starts on line 2 and its quoted note runs onto line 3; the bad row is line 4 of the file.
    for (const [what, csv] of [
      ['LF inside the cell', 'email,name,note\nivan@corp.example.com,Ivan Jones,"first floor\nnear the lifts"\nnot-an-address,Kim Lee,\n'],
      [
        'CRLF inside the cell (Windows export)',
        'email,name,note\r\nivan@corp.example.com,Ivan Jones,"first floor\r\nnear the lifts"\r\nnot-an-address,Kim Lee,\r\n',
      ],
    ] as const) {
      const response = await importCsv(listId, csv);
      expect(response.status, what).toBe(400);
      expect(
        (response.body.issues as Issue[]).map((i) => i.field),
        what,
      ).toEqual(['line 4.email']);
    }
    expect(await members(listId)).toEqual([]);
  });

  it('accepts the capitalised Email and Name headers spreadsheets export, keeping other columns as named', async () => {
    const listId = await newList('Spreadsheet export');
    const imported = await importCsv(listId, 'Email,Name,Office\nzoe@corp.example.com,Zoe Park,Leeds\n');
    expect(imported.status, imported.text).toBe(200);
    expect(await members(listId)).toEqual([{ email: 'zoe@corp.example.com', name: 'Zoe Park', fields: { Office: 'Leeds' } }]);
  });

  it('merges duplicates that lie far apart in a large import, and leaves nothing staged once it is saved or refused', async () => {
    const listId = await newList('Whole company');
    const count = 4500;
    const rows = Array.from({ length: count }, (_, i) => `person${i}@corp.example.com,Person ${i},Site ${i % 7}`);
    // The same people again near the end, thousands of rows later: a new site, and no name.
    rows.push('PERSON10@corp.example.com,,Head office', 'person3000@corp.example.com,Person Three Thousand,');
    const imported = await importCsv(listId, ['email,name,site', ...rows, ''].join('\n'));
    expect(imported.status, imported.text).toBe(200);
    expect(imported.body).toEqual({ listId, imported: count, mergedDuplicates: 2, memberCount: count });
    expect(await members(listId, 'q=person10%40')).toEqual([
      { email: 'person10@corp.example.com', name: 'Person 10', fields: { site: 'Head office' } },
    ]);
    expect(await members(listId, 'q=person3000%40')).toEqual([
      { email: 'person3000@corp.example.com', name: 'Person Three Thousand', fields: { site: 'Site 4' } },
    ]);
    const staged = async () => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM import_rows`.execute(h.db)).rows[0]!.n);
    expect(await staged()).toBe(0);

    // One bad row at the very end, after thousands were staged: refused, the list as it was, nothing left staged.
    const refused = await importCsv(
      listId,
      ['email,name,site', ...rows.slice(0, 3000).map((r) => `x${r}`), 'not-an-address,Nobody,', ''].join('\n'),
    );
    expect(refused.status).toBe(400);
    expect((refused.body.issues as Issue[]).map((i) => i.field)).toEqual(['line 3002.email']);
    expect(await memberCountShown(listId)).toBe(count);
    expect(await staged()).toBe(0);
  });

  it('imports JSON the same way, reporting bad entries by number', async () => {
    const listId = await newList('Support');
    const imported = await importJson(listId, {
      members: [
        { email: ' Heidi@Corp.Example.com ', name: 'Heidi Klum', fields: { team: 'Tier 1' } },
        { email: 'heidi@corp.example.com', name: '', fields: { shift: 'Early' } },
        { email: 'ivan@corp.example.com', name: 'Ivan Petrov' },
      ],
    });
    expect(imported.status, imported.text).toBe(200);
    expect(imported.body).toEqual({ listId, imported: 2, mergedDuplicates: 1, memberCount: 2 });
    expect(await members(listId)).toEqual([
      { email: 'heidi@corp.example.com', name: 'Heidi Klum', fields: { team: 'Tier 1', shift: 'Early' } },
      { email: 'ivan@corp.example.com', name: 'Ivan Petrov', fields: {} },
    ]);
    const before = await members(listId);
    const auditBefore = await auditCount();

    // A bare array works too; entry numbers count from 1, as a person reads the file.
    const bad = await importJson(listId, [
      { email: 'kim@corp.example.com', name: 'Kim Lee' },
      { email: 'not-an-address', name: 'Nobody' },
      { email: 'lea@corp.example.com', name: 'Lea\r\nBcc: everyone@corp.example.com' },
      { email: 'max@corp.example.com', name: 'Max Roe', fields: { 'cost centre': '42' } },
    ]);
    expect(bad.status, bad.text).toBe(400);
    const issues = bad.body.issues as Issue[];
    expect(issues.map((i) => i.field)).toEqual(['entry 2.email', 'entry 3.name', expect.stringMatching(/^entry 4\.fields/)]);
    expect(await members(listId)).toEqual(before);
    expect(await auditCount()).toBe(auditBefore);

    const notAList = await importJson(listId, { people: [] });
    expect(notAList.status).toBe(400);
    expect((notAList.body.issues as Issue[]).map((i) => i.field)).toEqual(['members']);
  });

  it('pages members in address order and searches them by address or name', async () => {
    const listId = await newList('Everyone in Building 7');
    const rows = Array.from({ length: 25 }, (_, i) => {
      const n = String(i).padStart(2, '0');
      return `member${n}@corp.example.com,${i % 10 === 3 ? 'Quinn Special' : `Member ${n}`}`;
    });
    rows.push('percent_sign@corp.example.com,Per Cent');
    const imported = await importCsv(listId, ['email,name', ...rows].join('\n'));
    expect(imported.body).toMatchObject({ imported: 26, memberCount: 26 });

    const first = await members(listId, 'limit=10&offset=0');
    const second = await members(listId, 'limit=10&offset=10');
    const third = await members(listId, 'limit=10&offset=20');
    expect(first).toHaveLength(10);
    expect(second).toHaveLength(10);
    expect(third).toHaveLength(6);
    const all = [...first, ...second, ...third].map((m) => m.email);
    expect(new Set(all).size).toBe(26);
    expect(all).toEqual([...all].sort());
    expect(first[0]!.email).toBe('member00@corp.example.com');
    expect(third.at(-1)!.email).toBe('percent_sign@corp.example.com');

    expect((await members(listId, 'q=SPECIAL')).map((m) => m.email)).toEqual([
      'member03@corp.example.com',
      'member13@corp.example.com',
      'member23@corp.example.com',
    ]);
    expect((await members(listId, 'q=Member07@')).map((m) => m.email)).toEqual(['member07@corp.example.com']);
    expect((await members(listId, 'q=special&limit=2&offset=2')).map((m) => m.email)).toEqual(['member23@corp.example.com']);
    // Search is for text, not patterns: _ and % match only themselves.
    expect((await members(listId, 'q=_')).map((m) => m.email)).toEqual(['percent_sign@corp.example.com']);
    expect(await members(listId, `q=${encodeURIComponent('%')}`)).toEqual([]);
    expect(await members(listId, 'q=nobody-by-this-name')).toEqual([]);

    const badPage = await h.api('author', 'GET', `/lists/${listId}/members?limit=0`);
    expect(badPage.status).toBe(400);
    expect((badPage.body.issues as Issue[]).map((i) => i.field)).toEqual(['query.limit']);
  });

  it('answers 404 for the members of a list that does not exist', async () => {
    const imported = await importJson('no-such-list', [{ email: 'kim@corp.example.com', name: 'Kim Lee' }]);
    expect(imported.status).toBe(404);
    expect(imported.body.error).toBe('not_found');
    const listed = await h.api('author', 'GET', '/lists/no-such-list/members');
    expect(listed.status).toBe(404);
    expect(listed.body.error).toBe('not_found');
  });

  it('deduplicates an audience of two overlapping lists plus explicit recipients at submit', async () => {
    const east = await newList('East office');
    const west = await newList('West office');
    expect(
      (await importCsv(east, 'email,name\nann@corp.example.com,Ann East\nben@corp.example.com,Ben East\ncat@corp.example.com,Cat East\n'))
        .body,
    ).toMatchObject({ memberCount: 3 });
    expect(
      (await importCsv(west, 'email,name\nBen@Corp.Example.com,Ben West\ncat@corp.example.com,Cat West\ndon@corp.example.com,Don West\n'))
        .body,
    ).toMatchObject({ memberCount: 3 });

    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Office closure',
      body: 'Hello {{firstName}}, both offices close on Friday.',
      audience: {
        listIds: [east, west],
        recipients: [
          { email: ' CAT@corp.example.com', name: 'Catherine Explicit' },
          { email: 'eve@corp.example.com', name: 'Eve Extra' },
        ],
      },
    });
    expect(created.status, created.text).toBe(201);
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    expect(submitted.status, submitted.text).toBe(200);
    // ann, ben, cat, don, eve: five people, each once.
    expect(submitted.body).toMatchObject({ status: 'pending_approval', recipientCount: 5 });

    const snapshot = await h.db
      .selectFrom('campaign_recipients')
      .select(['email', 'name'])
      .where('campaign_id', '=', created.body.id as string)
      .orderBy('email')
      .execute();
    expect(snapshot.map((r) => r.email)).toEqual([
      'ann@corp.example.com',
      'ben@corp.example.com',
      'cat@corp.example.com',
      'don@corp.example.com',
      'eve@corp.example.com',
    ]);
    const nameOf = new Map(snapshot.map((r) => [r.email, r.name]));
    expect(nameOf.get('cat@corp.example.com')).toBe('Catherine Explicit');
    expect(nameOf.get('eve@corp.example.com')).toBe('Eve Extra');
    expect(['Ben East', 'Ben West']).toContain(nameOf.get('ben@corp.example.com'));

    // What the approvers are asked to confirm is that same number.
    const state = await h.api('alice', 'GET', `/campaigns/${created.body.id}`);
    expect(state.body.recipientCount).toBe(5);

    // A later list change does not alter the submitted snapshot.
    await importCsv(east, 'email,name\nfay@corp.example.com,Fay East\n');
    const after = await h.db
      .selectFrom('campaign_recipients')
      .select('email')
      .where('campaign_id', '=', created.body.id as string)
      .execute();
    expect(after).toHaveLength(5);
  });

  it('freezes the digest of the snapshot as stored, numbered and read a page at a time in address order', async () => {
    const listId = await newList('Digest check');
    const csv = [
      'email,name,team,site',
      'zoe@corp.example.com,Zoë Ünal,Ops,Zürich',
      'adam@corp.example.com,"Adam ""AJ"" Jones",Legal,',
      'mo@corp.example.com,Mo,,Leeds',
      'bea@corp.example.com,Bea,Finance,Oslo',
      'kim@corp.example.com,Kim,Ops,Oslo',
    ].join('\n');
    expect((await importCsv(listId, csv)).body).toMatchObject({ memberCount: 5 });
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Digest',
      body: 'Hello {{name}}.',
      audience: { listIds: [listId] },
    });
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    expect(submitted.status, submitted.text).toBe(200);
    const campaignId = created.body.id as string;

    const stored = (
      await h.db
        .selectFrom('campaign_recipients')
        .select(['email', 'name', 'fields', 'reply_to_message_id'])
        .where('campaign_id', '=', campaignId)
        .orderBy('seq')
        .execute()
    ).map((r) => ({ email: r.email, name: r.name, fields: r.fields, replyToMessageId: r.reply_to_message_id }));
    expect(stored.map((r) => r.email)).toEqual([
      'adam@corp.example.com',
      'bea@corp.example.com',
      'kim@corp.example.com',
      'mo@corp.example.com',
      'zoe@corp.example.com',
    ]);

    const paged: SnapshotRecipient[] = [];
    for (let after = 0; ; after += 2) {
      const page = await pageSnapshot(h.db, campaignId, after, 2);
      paged.push(...page);
      if (page.length < 2) break;
    }
    expect(paged).toEqual(stored);

    const expected = new AudienceDigest();
    for (const recipient of stored) expected.add(recipient);
    const campaign = await h.db.selectFrom('campaigns').select('audience_digest').where('id', '=', campaignId).executeTakeFirstOrThrow();
    expect(campaign.audience_digest).toBe(expected.digest());
  });

  it('refuses a snapshot row naming a campaign that does not exist, on insert and on update, and changes nothing', async () => {
    const listId = await newList('Snapshot guard');
    await importCsv(listId, 'email,name\numa@corp.example.com,Uma\n');
    const created = await h.api('author', 'POST', '/campaigns', { subject: 'Guard', body: 'Hello.', audience: { listIds: [listId] } });
    expect((await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`)).status).toBe(200);
    const rows = () =>
      h.db.selectFrom('campaign_recipients').select(['campaign_id', 'email']).where('email', '=', 'uma@corp.example.com').execute();
    const before = await rows();

    const insert =
      sql`INSERT INTO campaign_recipients (campaign_id, seq, email, name, fields) VALUES ('no-such-campaign', 1, 'uma@corp.example.com', 'Uma', '{}')`.execute(
        h.db,
      );
    await expect(insert).rejects.toMatchObject({ code: '23503' });
    const update =
      sql`UPDATE campaign_recipients SET campaign_id = 'no-such-campaign' WHERE campaign_id = ${created.body.id as string}`.execute(h.db);
    await expect(update).rejects.toMatchObject({ code: '23503' });
    expect(await rows()).toEqual(before);
  });
});

describe.skipIf(testDb() !== 'postgres')('a snapshot on a database whose collation is not bytewise', () => {
  let h: Harness;

  beforeAll(async () => {
    // ICU's en-US puts punctuation before digits ('a_b' before 'a1b'); the digest's address order is the bytes'.
    h = await Harness.start({ workers: false, icuLocale: 'en-US' });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it("numbers and digests the audience in byte order, whatever the database's collation", async () => {
    const emails = ['ab@corp.example.com', 'a1b@corp.example.com', 'a_b@corp.example.com', 'a.c@corp.example.com'];
    const created = await h.api('author', 'POST', '/campaigns', {
      subject: 'Collation',
      body: 'Hello {{name}}.',
      audience: { recipients: emails.map((email) => ({ email, name: email.split('@')[0] })) },
    });
    expect(created.status, created.text).toBe(201);
    const submitted = await h.api('author', 'POST', `/campaigns/${created.body.id}/submit`);
    expect(submitted.status, submitted.text).toBe(200);

    const stored = await h.db
      .selectFrom('campaign_recipients')
      .select(['email', 'name', 'fields', 'reply_to_message_id'])
      .where('campaign_id', '=', created.body.id as string)
      .orderBy('seq')
      .execute();
    expect(stored.map((r) => r.email)).toEqual([
      'a.c@corp.example.com',
      'a1b@corp.example.com',
      'a_b@corp.example.com',
      'ab@corp.example.com',
    ]);
    const expected = new AudienceDigest();
    for (const r of stored) expected.add({ email: r.email, name: r.name, fields: r.fields, replyToMessageId: r.reply_to_message_id });
    const campaign = await h.db
      .selectFrom('campaigns')
      .select('audience_digest')
      .where('id', '=', created.body.id as string)
      .executeTakeFirstOrThrow();
    expect(campaign.audience_digest).toBe(expected.digest());
  });
});
