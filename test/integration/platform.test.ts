import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/connect.js';
import { databaseTarget } from '../../src/runtime.js';
import { Harness } from '../support/harness.js';

describe('audit chain, CLI and the database', () => {
  let h: Harness;
  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runCli(args, h.ctx, (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  };

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addUser('author', ['author']);
  });
  afterAll(() => h?.stop());

  it('adds a user with a token that works, lists users, and revokes the token', async () => {
    const added = await cli('user', 'add', '--email', 'Dana@Staff.example.com', '--name', 'Dana Admin', '--roles', 'admin,approver');
    expect(added.code).toBe(0);
    const token = /API token \(shown once\): (\S+)/.exec(added.out)![1]!;
    const me = await fetch(`${h.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(await me.json()).toMatchObject({ email: 'dana@staff.example.com', roles: ['admin', 'approver'] });

    expect((await cli('user', 'list')).out).toContain('dana@staff.example.com\tDana Admin\tadmin,approver');
    const stored = await h.db.selectFrom('api_tokens').select('token_hash').execute();
    expect(stored.map((t) => t.token_hash)).not.toContain(token);

    const tokens = await cli('token', 'list', '--email', 'dana@staff.example.com');
    const tokenId = tokens.out.split('\t')[0]!;
    expect((await cli('token', 'revoke', '--id', tokenId)).out).toBe(`revoked ${tokenId}`);
    expect((await fetch(`${h.baseUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);

    const duplicate = cli('user', 'add', '--email', 'dana@staff.example.com', '--name', 'Again', '--roles', 'author');
    await expect(duplicate).rejects.toThrow(/already exists/);
    await expect(cli('user', 'add', '--email', 'x@y.example.com', '--name', 'X', '--roles', 'boss')).rejects.toThrow(/roles/);
    expect((await cli('migrate')).out).toBe('already up to date');
  });

  it('imports a list from a CSV file', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'countersign-'));
    const file = path.join(dir, 'staff.csv');
    writeFileSync(file, 'email,name,team\nA@x.example.com,Ann,Ops\nb@x.example.com,Ben,Ops\na@x.example.com,Ann A,Ops\n');
    const result = await cli('list', 'import', '--name', 'Ops', '--file', file, '--as', 'author@staff.example.com');
    expect(result.out).toMatch(/2 imported, 1 duplicates merged, 2 members/);
  });

  it('keeps one unbroken chain under concurrent actions, refuses changes, and names the first broken link', async () => {
    await Promise.all(Array.from({ length: 15 }, (_, i) => h.api('author', 'POST', '/lists', { name: `Concurrent ${i}` })));
    const verified = await cli('audit', 'verify');
    expect(verified.code).toBe(0);
    expect(verified.out).toMatch(/audit chain intact: \d+ events/);
    const events = await h.db.selectFrom('audit_events').select(['id', 'prev_hash', 'hash']).orderBy('id').execute();
    for (let i = 1; i < events.length; i++) expect(events[i]!.prev_hash).toBe(events[i - 1]!.hash);

    await expect(h.db.updateTable('audit_events').set({ actor: 'someone else' }).execute()).rejects.toThrow(/append-only/);
    await expect(h.db.deleteFrom('audit_events').execute()).rejects.toThrow(/append-only/);

    // Tampering needs a superuser who switches the guard off; verification still catches it.
    const victim = events[5]!.id;
    await sql`ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only`.execute(h.db);
    await sql`UPDATE audit_events SET data = '{"forged": true}' WHERE id = ${victim}`.execute(h.db);
    await sql`ALTER TABLE audit_events ENABLE TRIGGER audit_events_append_only`.execute(h.db);
    const broken = await cli('audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.out).toBe(`audit chain BROKEN at event ${victim}: hash does not match the event content`);
  });

  it('runs concurrent transactions without interleaving them on one connection', async () => {
    const list = (name: string) => ({ id: name, name, created_by: h.users.author!.id });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    // Without a connection mutex PGlite would run the second transaction's statements inside
    // the first, so its COMMIT would keep the row the first one rolls back.
    const rolledBack = h.db.transaction().execute(async (trx) => {
      await trx.insertInto('lists').values(list('tx-rolled-back')).execute();
      await gate;
      throw new Error('roll back');
    });
    const committed = h.db.transaction().execute((trx) => trx.insertInto('lists').values(list('tx-committed')).execute());
    release();
    await expect(rolledBack).rejects.toThrow('roll back');
    await committed;
    const names = (await h.db.selectFrom('lists').select('name').where('name', 'like', 'tx-%').orderBy('name').execute()).map(
      (r) => r.name,
    );
    expect(names).toEqual(['tx-committed']);
  });

  it('gives the embedded database the shared_buffers its setting names, and refuses a size it cannot read', async () => {
    const target = databaseTarget(loadConfig({ PGLITE_SHARED_BUFFERS: '16MB' }));
    expect(target).toMatchObject({ kind: 'pglite', sharedBuffers: '16MB' });
    const embedded = await openDatabase({ ...target, kind: 'pglite', dataDir: 'memory' }, { migrate: false });
    try {
      const { rows } = await sql<{ shared_buffers: string }>`show shared_buffers`.execute(embedded.db);
      expect(rows).toEqual([{ shared_buffers: '16MB' }]);
    } finally {
      await embedded.close();
    }
    for (const size of ['16 MB', '0MB', '16mb', '16']) {
      expect(() => loadConfig({ PGLITE_SHARED_BUFFERS: size })).toThrow(ConfigError);
      expect(() => loadConfig({ PGLITE_SHARED_BUFFERS: size })).toThrow(/PGLITE_SHARED_BUFFERS: a size such as 32MB/);
    }
  });
});
