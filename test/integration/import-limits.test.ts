import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { importLimits } from '../../src/domain/import-limits.js';
import { Harness } from '../support/harness.js';
import { streamUpload, uploadIgnoringAnswer } from '../support/streamed-upload.js';
import type { WebClient } from '../support/web-client.js';

interface Member {
  email: string;
  name: string;
  fields: Record<string, string>;
}

/** `count` CSV lines for distinct people, `tag0@…` onwards, each with an optional `note` merge field. */
function* csvLines(count: number, tag: string, note = ''): Generator<string> {
  for (let i = 0; i < count; i++) yield `${tag}${i}@corp.example.com,${tag} ${i}${note ? `,${note}` : ''}\n`;
}

/** Lines grouped into chunks of about 16 KB, as a client streams a file. */
async function* chunked(lines: Iterable<string>): AsyncGenerator<string> {
  let chunk = '';
  for (const line of lines) {
    chunk += line;
    if (chunk.length >= 16_384) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** The bytes of `text` cut every `size` bytes, wherever that falls (inside a character, a CRLF, an escape). */
function* slices(text: string, size: number): Generator<Uint8Array> {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

function* jsonEntries(count: number, tag: string): Generator<string> {
  yield '[';
  for (let i = 0; i < count; i++) yield `${i ? ',' : ''}${JSON.stringify({ email: `${tag}${i}@corp.example.com`, name: `${tag} ${i}` })}`;
  yield ']';
}

describe('member imports: row and byte caps checked as the data arrives', () => {
  let h: Harness;
  // MAX_LIST_SIZE 1,000 rows at the default 256 bytes a row, plus one row's 64 KB: 321,536 bytes.
  const MAX_ROWS = 1000;
  const MAX_BYTES = 321_536;

  beforeAll(async () => {
    h = await Harness.start({ workers: false, env: { MAX_LIST_SIZE: String(MAX_ROWS) } });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  const membersUrl = (listId: string) => `${h.baseUrl}/api/v1/lists/${listId}/members`;
  const authorHeaders = (contentType: string) => ({ authorization: `Bearer ${h.users.author!.token}`, 'content-type': contentType });

  async function newList(name: string, seed?: string): Promise<string> {
    const created = await h.api('author', 'POST', '/lists', { name });
    expect(created.status, created.text).toBe(201);
    if (seed)
      expect((await h.api('author', 'POST', `/lists/${created.body.id}/members`, seed, { 'content-type': 'text/csv' })).status).toBe(200);
    return created.body.id as string;
  }

  async function members(listId: string): Promise<Member[]> {
    const response = await h.api('author', 'GET', `/lists/${listId}/members?limit=1000`);
    expect(response.status, response.text).toBe(200);
    return response.body.members as Member[];
  }

  /** Everything an import could have changed: the list's members, who changed it, and the audit trail. */
  async function state(listId: string) {
    const count = async (table: 'audit_events' | 'list_changes' | 'list_members') =>
      Number(
        (
          await h.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      members: await members(listId),
      audit: await count('audit_events'),
      changes: await count('list_changes'),
      allMembers: await count('list_members'),
    };
  }

  it('sizes the byte cap from MAX_LIST_SIZE in one rule', () => {
    expect(importLimits(h.config)).toEqual({ maxRows: MAX_ROWS, maxBytes: MAX_BYTES, maxRowBytes: 65_536 });
  });

  it('refuses an import of more rows than MAX_LIST_SIZE with 413 while the body is still arriving, and imports nothing', async () => {
    const listId = await newList('Row cap', 'email,name\nkeep0@corp.example.com,Keep Zero\nkeep1@corp.example.com,Keep One\n');
    const before = await state(listId);

    // Row 1,001 and the start of the next (a CSV parser knows a row is whole when the next begins), and then
    // the body stays open: only a server that counts rows as they come can answer.
    const held = await streamUpload(membersUrl(listId), chunked(['email,name\n', ...csvLines(MAX_ROWS + 1, 'over'), 'next']), {
      headers: authorHeaders('text/csv'),
      holdOpen: true,
    });
    expect(held.status, held.text).toBe(413);
    expect(held.body).toMatchObject({
      error: 'list_too_large',
      message: expect.stringContaining('more than 1000 rows; the limit is 1000'),
    });

    // The same from a client that sends the whole file, 5,000 rows; and as JSON.
    const whole = await h.api('author', 'POST', `/lists/${listId}/members`, ['email,name\n', ...csvLines(5000, 'whole')].join(''), {
      'content-type': 'text/csv',
    });
    expect(whole.status, whole.text).toBe(413);
    expect(whole.body.error).toBe('list_too_large');
    const json = await h.api('author', 'POST', `/lists/${listId}/members`, [...jsonEntries(MAX_ROWS + 1, 'json')].join(''), {
      'content-type': 'application/json',
    });
    expect(json.status, json.text).toBe(413);
    expect(json.body.error).toBe('list_too_large');

    expect(await state(listId)).toEqual(before);

    // Exactly the cap is an import like any other.
    const full = await newList('Exactly full');
    const atCap = await h.api('author', 'POST', `/lists/${full}/members`, ['email,name\n', ...csvLines(MAX_ROWS, 'full')].join(''), {
      'content-type': 'text/csv',
    });
    expect(atCap.status, atCap.text).toBe(200);
    expect(atCap.body).toMatchObject({ imported: MAX_ROWS, memberCount: MAX_ROWS });
  });

  it('refuses a body larger than the byte cap with 413 naming the cap, before the body ends, and imports nothing', async () => {
    const listId = await newList('Byte cap', 'email,name\nkeep@corp.example.com,Keep\n');
    const before = await state(listId);
    // 900 rows (under the row cap) with a 400-character merge field: about 400 KB.
    const note = 'n'.repeat(400);
    const lines = ['email,name,note\n', ...csvLines(900, 'wide', note)];
    expect(Buffer.byteLength(lines.join(''))).toBeGreaterThan(MAX_BYTES);

    const held = await streamUpload(membersUrl(listId), chunked(lines), { headers: authorHeaders('text/csv'), holdOpen: true });
    expect(held.status, held.text).toBe(413);
    expect(held.body).toMatchObject({ error: 'too_large', message: expect.stringContaining('larger than 321,536 bytes') });

    const jsonLines = [
      '[',
      ...Array.from({ length: 900 }, (_, i) => `${i ? ',' : ''}${JSON.stringify({ email: `w${i}@corp.example.com`, fields: { note } })}`),
      ']',
    ];
    const json = await streamUpload(membersUrl(listId), chunked(jsonLines), { headers: authorHeaders('application/json'), holdOpen: true });
    expect(json.status, json.text).toBe(413);
    expect(json.body).toMatchObject({ error: 'too_large', message: expect.stringContaining('321,536 bytes') });

    // One row larger than a row may be is refused by where it stands, without reading on.
    const huge = 'x'.repeat(70_000);
    const bigRow = await streamUpload(
      membersUrl(listId),
      chunked(['email,name,note\n', 'a@corp.example.com,A,short\n', `b@corp.example.com,B,${huge}\n`]),
      {
        headers: authorHeaders('text/csv'),
        holdOpen: true,
      },
    );
    expect(bigRow.status, bigRow.text).toBe(413);
    expect(bigRow.body).toMatchObject({ error: 'too_large', message: expect.stringMatching(/^line 3 is larger than 65,536 bytes/) });
    const bigEntry = await streamUpload(
      membersUrl(listId),
      chunked(['[{"email":"a@corp.example.com"},', `{"email":"b@corp.example.com","name":"${huge}"}]`]),
      {
        headers: authorHeaders('application/json'),
        holdOpen: true,
      },
    );
    expect(bigEntry.status, bigEntry.text).toBe(413);
    expect(bigEntry.body).toMatchObject({ error: 'too_large', message: expect.stringMatching(/^entry 2 is larger than 65,536 bytes/) });

    expect(await state(listId)).toEqual(before);
    // The server is still answering on new connections after closing those it refused.
    expect((await h.api('author', 'GET', `/lists/${listId}`)).status).toBe(200);
  });

  it('cuts off a client that keeps sending after its import was refused, rather than reading on', async () => {
    const listId = await newList('Careless client');
    // 64 MB of 1 KB rows: refused after about 314 KB; the server then ends the connection.
    const careless = await uploadIgnoringAnswer(
      membersUrl(listId),
      chunked(['email,name,note\n', ...csvLines(64 * 1024, 'careless', 'c'.repeat(990))]),
      authorHeaders('text/csv'),
    );
    expect(careless.status).toBe(413);
    expect(careless.cut).toBe(true);
    expect(careless.sentAfterAnswer).toBeLessThan(32 * 1024 * 1024);
    expect(await members(listId)).toEqual([]);
  });

  it('answers the next request on the same connection after refusing an import it had not read to the end', async () => {
    const listId = await newList('Next request');
    // One keep-alive connection, as a client's pool reuses it: the whole body is sent, the refusal comes early.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const send = (method: string, path: string, body?: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(`${h.baseUrl}/api/v1${path}`, { method, agent, headers: authorHeaders('text/csv') }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      expect(await send('POST', `/lists/${listId}/members`, ['email,name\n', ...csvLines(5000, 'pooled')].join(''))).toBe(413);
      expect(await send('GET', `/lists/${listId}`)).toBe(200);
      expect(await send('POST', `/lists/${listId}/members`, 'email,name\npooled@corp.example.com,Pooled\n')).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it('keeps the other API routes to a small body limit', async () => {
    const listId = await newList('Small bodies');
    const big = await h.api('author', 'POST', '/campaigns', {
      subject: 'Big',
      body: 'x'.repeat(3 * 1024 * 1024),
      audience: { listIds: [listId] },
    });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ error: 'too_large', message: 'the request body is larger than 2,097,152 bytes (2 MB)' });
  });

  it('takes a body that arrives slowly, cut anywhere: inside characters, line endings and quoted cells', async () => {
    const listId = await newList('Slow upload');
    const csv =
      'Email,Name,Office\r\nzoe@corp.example.com,Zoë Ünal,"Zürich\r\nfloor 2"\r\nkenji@corp.example.com,山田 健二,東京\r\n\r\nann@corp.example.com,Ann,Leeds\r\n';
    const slow = await streamUpload(membersUrl(listId), slices(csv, 3), { headers: authorHeaders('text/csv; charset=utf-8'), pauseMs: 2 });
    expect(slow.status, slow.text).toBe(200);
    expect(slow.body).toEqual({ listId, imported: 3, mergedDuplicates: 0, memberCount: 3 });
    expect(await members(listId)).toEqual([
      { email: 'ann@corp.example.com', name: 'Ann', fields: { Office: 'Leeds' } },
      { email: 'kenji@corp.example.com', name: '山田 健二', fields: { Office: '東京' } },
      { email: 'zoe@corp.example.com', name: 'Zoë Ünal', fields: { Office: 'Zürich\nfloor 2' } },
    ]);

    // Cut the same way, a bad row is still named by the line a person sees it on (the quoted cell spans 2-3).
    const bad = await streamUpload(membersUrl(listId), slices(`${csv}not-an-address,Nobody,Leeds\r\n`, 3), {
      headers: authorHeaders('text/csv'),
      pauseMs: 1,
    });
    expect(bad.status, bad.text).toBe(400);
    expect(bad.body!.issues!.map((i) => i.field)).toEqual(['line 7.email']);

    const json = JSON.stringify({
      members: [
        { email: 'Li@Corp.Example.com', name: '李 小龙', fields: { city: 'Zürich' } },
        { email: 'li@corp.example.com', name: '' },
      ],
    });
    const slowJson = await streamUpload(membersUrl(listId), slices(json, 2), { headers: authorHeaders('application/json'), pauseMs: 1 });
    expect(slowJson.status, slowJson.text).toBe(200);
    expect(slowJson.body).toMatchObject({ imported: 1, mergedDuplicates: 1, memberCount: 4 });
    expect((await members(listId)).find((m) => m.email === 'li@corp.example.com')).toEqual({
      email: 'li@corp.example.com',
      name: '李 小龙',
      fields: { city: 'Zürich' },
    });
    expect(await members(listId)).toHaveLength(4);
  });

  it('names a malformed CSV record by its line with the other bad rows, and refuses malformed JSON', async () => {
    const listId = await newList('Malformed');
    const csv = 'email,name\nok@corp.example.com,Ok\nextra@corp.example.com,Extra,Column\nbad-address,Bad\n';
    const refused = await h.api('author', 'POST', `/lists/${listId}/members`, csv, { 'content-type': 'text/csv' });
    expect(refused.status, refused.text).toBe(400);
    expect(refused.body.issues).toEqual([
      { field: 'line 3', message: expect.stringContaining('Invalid Record Length') },
      { field: 'line 4.email', message: expect.stringMatching(/not a valid email address/) },
    ]);
    const json = await h.api('author', 'POST', `/lists/${listId}/members`, '[{"email": "a@corp.example.com"},', {
      'content-type': 'application/json',
    });
    expect(json.status, json.text).toBe(400);
    expect(json.body.error).toBe('malformed_json');
    const notJson = await h.api('author', 'POST', `/lists/${listId}/members`, 'email,name\n', { 'content-type': 'application/xml' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.issues).toEqual([{ field: 'members', message: 'send the members as text/csv or application/json' }]);
    expect(await members(listId)).toEqual([]);
  });

  it('reads a CSV in the character set its Content-Type names', async () => {
    const listId = await newList('Legacy export');
    const latin1 = Buffer.from('email,name\nzoe@corp.example.com,Zoë Ünal\n', 'latin1');
    const imported = await streamUpload(membersUrl(listId), [latin1], { headers: authorHeaders('text/csv; charset=windows-1252') });
    expect(imported.status, imported.text).toBe(200);
    expect(await members(listId)).toEqual([{ email: 'zoe@corp.example.com', name: 'Zoë Ünal', fields: {} }]);
    const unknown = await streamUpload(membersUrl(listId), [latin1], { headers: authorHeaders('text/csv; charset=klingon') });
    expect(unknown.status).toBe(400);
    expect(unknown.body!.issues).toEqual([{ field: 'charset', message: 'the character set "klingon" is not supported; send UTF-8' }]);
  });

  it('takes gzip-compressed CSV, and applies the byte cap to what it expands to', async () => {
    const listId = await newList('Compressed');
    const small = await streamUpload(membersUrl(listId), [gzipSync('email,name\nGz@corp.example.com,Gee Zed\n')], {
      headers: { ...authorHeaders('text/csv'), 'content-encoding': 'gzip' },
    });
    expect(small.status, small.text).toBe(200);
    expect(await members(listId)).toEqual([{ email: 'gz@corp.example.com', name: 'Gee Zed', fields: {} }]);

    // 800 rows of 1 KB compress to a few KB but expand past the cap.
    const bomb = gzipSync(['email,name,note\n', ...csvLines(800, 'bomb', 'z'.repeat(1000))].join(''));
    expect(bomb.length).toBeLessThan(MAX_BYTES / 10);
    const refused = await streamUpload(membersUrl(listId), [bomb], {
      headers: { ...authorHeaders('text/csv'), 'content-encoding': 'gzip' },
    });
    expect(refused.status, refused.text).toBe(413);
    expect(refused.body!.error).toBe('too_large');
    expect(await members(listId)).toHaveLength(1);
  });

  describe('the console import form', () => {
    let client: WebClient;
    beforeAll(async () => {
      client = await h.signIn('author');
    });

    const submit = async (listId: string, csv: string, intent: 'preview' | 'import') => {
      const response = await client.post(`/lists/${listId}/import`, { _csrf: await client.csrf(`/lists/${listId}`), csv, intent });
      return { status: response.status, location: response.headers.get('location'), page: await response.text() };
    };

    it('previews, imports, names bad rows, and refuses an import over the row cap while it arrives', async () => {
      const listId = await newList('Console import');
      const csv = 'email,name,team\nana@corp.example.com,Ana & Co,Ops\nbo@corp.example.com,Bo,\nana@corp.example.com,,Legal\n';
      const preview = await submit(listId, csv, 'preview');
      expect(preview.status).toBe(200);
      expect(preview.page).toContain('2 rows are valid');
      expect(preview.page).toContain('Import 2 rows');
      expect(preview.page).toContain('ana@corp.example.com,Ana &amp; Co,Ops'); // the CSV, back in the text area
      expect(await members(listId)).toEqual([]);

      const imported = await submit(listId, csv, 'import');
      expect(imported.status).toBe(303);
      expect(imported.location).toMatch(new RegExp(`^/lists/${listId}\\?notice=imported`));
      expect(await members(listId)).toEqual([
        { email: 'ana@corp.example.com', name: 'Ana & Co', fields: { team: 'Legal' } },
        { email: 'bo@corp.example.com', name: 'Bo', fields: {} },
      ]);

      const bad = await submit(listId, 'email,name\ncy@corp.example.com,Cy\nnot-an-address,Nobody\n', 'import');
      expect(bad.status).toBe(400);
      expect(bad.page).toContain('nothing will be imported until they are fixed');
      expect(bad.page).toContain('line 3.email');

      const before = await state(listId);
      const over = await submit(listId, ['email,name\n', ...csvLines(MAX_ROWS + 1, 'console')].join(''), 'import');
      expect(over.status).toBe(413);
      expect(over.page).toContain('the import has more than 1000 rows; the limit is 1000');
      expect(await state(listId)).toEqual(before);
    });

    it('reads a form that arrives in pieces cut inside its escapes', async () => {
      const listId = await newList('Console slow');
      const form = new URLSearchParams({
        _csrf: await client.csrf(`/lists/${listId}`),
        csv: 'email,name\nzoe@corp.example.com,Zoë Ünal & Söhne\n',
        intent: 'import',
      });
      const cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
      const answer = await streamUpload(`${h.baseUrl}/lists/${listId}/import`, slices(form.toString(), 2), {
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        pauseMs: 1,
      });
      expect(answer.status, answer.text).toBe(303);
      expect(await members(listId)).toEqual([{ email: 'zoe@corp.example.com', name: 'Zoë Ünal & Söhne', fields: {} }]);

      // Without the session's CSRF token nothing is read into the list.
      const forged = await client.post(`/lists/${listId}/import`, {
        _csrf: 'forged',
        csv: 'email,name\nmallory@corp.example.com,M\n',
        intent: 'import',
      });
      expect(forged.status).toBe(403);
      expect(await members(listId)).toHaveLength(1);
    });
  });

  it('imports a JSON file from the CLI, and refuses one over the row cap', async () => {
    const lines: string[] = [];
    const cli = (...args: string[]) => runCli(args, h.ctx, (line) => lines.push(line));
    const dir = mkdtempSync(path.join(tmpdir(), 'countersign-import-'));
    const small = path.join(dir, 'team.json');
    writeFileSync(small, JSON.stringify([{ email: 'Cli@corp.example.com', name: 'Cli One' }, { email: 'cli2@corp.example.com' }]));
    expect(await cli('list', 'import', '--name', 'From the CLI', '--file', small, '--as', h.users.author!.email)).toBe(0);
    expect(lines.at(-1)).toMatch(/2 imported, 0 duplicates merged, 2 members/);

    const large = path.join(dir, 'everyone.json');
    writeFileSync(large, [...jsonEntries(MAX_ROWS + 1, 'cli')].join(''));
    await expect(cli('list', 'import', '--name', 'From the CLI', '--file', large, '--as', h.users.author!.email)).rejects.toMatchObject({
      status: 413,
      message: expect.stringContaining('more than 1000 rows'),
    });
    const list = (await h.api('author', 'GET', '/lists')).body.lists.find((l: { name: string }) => l.name === 'From the CLI');
    expect(await members(list.id)).toHaveLength(2);
  });
});
