import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, testDb } from '../support/harness.js';
import { freePort, Processes, type CountersignProcess } from '../support/processes.js';
import { streamUpload } from '../support/streamed-upload.js';

/**
 * The heap a separate API process gets. Imports are staged in the database a batch at a time, so
 * the largest the caps allow fits in 64 MB; with every row held in memory until the end, as
 * imports were read before, the same process ran out of heap here in all three tests.
 */
const HEAP_MB = 64;
const MAX_LIST_SIZE = 200_000;
const GB = 1024 ** 3;

/** A CSV made as it is sent, never held whole: a header, then `line(i)` for each of `count` rows, 64 KB at a time. */
async function* generatedCsv(count: number, line: (i: number) => string): AsyncGenerator<string> {
  let chunk = 'email,name,note\n';
  for (let i = 0; i < count; i++) {
    chunk += line(i);
    if (chunk.length >= 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** A person's row padded with a merge field to `bytes` bytes. */
const paddedTo = (bytes: number) => (i: number) => {
  const start = `person${i}@corp.example.com,Person ${i},`;
  return `${start}${'x'.repeat(bytes - start.length - 1)}\n`;
};

// A real second process needs a database both can open: PostgreSQL.
describe.skipIf(testDb() !== 'postgres')(`imports into a separate API process whose heap is bounded at ${HEAP_MB} MB`, () => {
  let h: Harness;
  const processes = new Processes();
  let api: CountersignProcess;
  let apiUrl: string;

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addUser('author', ['author']);
    const port = await freePort();
    apiUrl = `http://127.0.0.1:${port}`;
    api = await processes.start('api', {
      ...h.processEnv('api'),
      PORT: String(port),
      PUBLIC_URL: apiUrl,
      MAX_LIST_SIZE: String(MAX_LIST_SIZE),
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-old-space-size=${HEAP_MB}`.trim(),
    });
    // The process says what V8 gives it: the old space bound plus a young generation of some MB.
    const heapLimit = Number(/V8 heap limit: (\d+) MB/.exec(api.output())![1]);
    expect(heapLimit).toBeGreaterThanOrEqual(HEAP_MB);
    expect(heapLimit).toBeLessThan(HEAP_MB + 64);
  });
  afterAll(async () => {
    await processes.stopAll();
    await h?.stop();
  });

  const headers = () => ({ authorization: `Bearer ${h.users.author!.token}`, 'content-type': 'text/csv' });
  async function newList(name: string): Promise<string> {
    const created = await fetch(`${apiUrl}/api/v1/lists`, {
      method: 'POST',
      headers: { ...headers(), 'content-type': 'application/json' },
      body: JSON.stringify({ name }),
    });
    expect(created.status).toBe(201);
    return ((await created.json()) as { id: string }).id;
  }
  const memberCount = async (listId: string) =>
    Number(
      (
        await h.db
          .selectFrom('list_members')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('list_id', '=', listId)
          .executeTakeFirstOrThrow()
      ).n,
    );

  async function expectAliveAndAnswering(): Promise<void> {
    expect(api.child.exitCode, api.output()).toBeNull();
    expect(api.child.signalCode, api.output()).toBeNull();
    const health = await fetch(`${apiUrl}/healthz`);
    expect(await health.json()).toEqual({ ok: true });
    expect(api.output()).not.toMatch(/heap out of memory|Allocation failed/);
  }

  it('refuses a 2 GB upload with 413 once it passes the byte cap, having read a small part of it, and stays up', async () => {
    const listId = await newList('Two gigabytes');
    // 2 GB in 1 KB lines: about 2 million rows, but the byte cap (about 50 MB) comes first.
    const answer = await streamUpload(`${apiUrl}/api/v1/lists/${listId}/members`, generatedCsv(2 * 1024 * 1024, paddedTo(1024)), {
      headers: headers(),
    });
    expect(answer.status, answer.text).toBe(413);
    expect(answer.body).toMatchObject({ error: 'too_large', message: expect.stringContaining('larger than 51,265,536 bytes') });
    expect(answer.sentBytes).toBeLessThan(0.1 * 2 * GB);
    expect(await memberCount(listId)).toBe(0);
    await expectAliveAndAnswering();
  });

  it('refuses the 1.6-million-row file from issue 13 with 413 at row 200,001, and stays up', async () => {
    const listId = await newList('One point six million');
    // 20-byte rows: 32 MB, under the 50 MB the API used to take whole and parse before counting.
    const answer = await streamUpload(
      `${apiUrl}/api/v1/lists/${listId}/members`,
      generatedCsv(1_600_000, (i) => `u${String(i).padStart(7, '0')}@corp.io,U,\n`),
      {
        headers: headers(),
      },
    );
    expect(answer.status, answer.text).toBe(413);
    expect(answer.body).toMatchObject({ error: 'list_too_large', message: expect.stringContaining('more than 200000 rows') });
    expect(await memberCount(listId)).toBe(0);
    await expectAliveAndAnswering();
  });

  it('imports the largest file the caps allow, 200,000 rows of 255 bytes, within the same heap', async () => {
    const listId = await newList('Two hundred thousand');
    // 51,000,016 bytes: just under the byte cap.
    const answer = await streamUpload(`${apiUrl}/api/v1/lists/${listId}/members`, generatedCsv(MAX_LIST_SIZE, paddedTo(255)), {
      headers: headers(),
    });
    expect(answer.status, answer.text).toBe(200);
    expect(answer.body).toEqual({ listId, imported: MAX_LIST_SIZE, mergedDuplicates: 0, memberCount: MAX_LIST_SIZE });
    expect(await memberCount(listId)).toBe(MAX_LIST_SIZE);
    await expectAliveAndAnswering();
  });
});
