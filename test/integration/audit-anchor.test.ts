import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Transaction } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli.js';
import type { DB } from '../../src/db/schema.js';
import { chainHash, type Checkpoint } from '../../src/domain/audit-chain.js';
import { Harness, people } from '../support/harness.js';

const AUDIT_KEY = 'test-audit-key-0123456789abcdef0123456789abcdef';
const CHECKPOINT_EMAIL = 'audit-archive@records.example.com';

describe('the audit chain anchored outside the database', () => {
  let h: Harness;
  const dir = mkdtempSync(path.join(tmpdir(), 'countersign-checkpoints-'));

  beforeAll(async () => {
    // An interval far longer than the test: every checkpoint here is called for by an action.
    h = await Harness.start({
      env: { AUDIT_KEY, AUDIT_CHECKPOINT_DIR: dir, AUDIT_CHECKPOINT_EMAIL: CHECKPOINT_EMAIL, AUDIT_CHECKPOINT_INTERVAL_MS: '3600000' },
    });
    await h.addAuthorAndApprovers();
    await h.addUser('admin', ['admin', 'approver']);
  });
  afterAll(async () => {
    await h?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const cli = async (...args: string[]) => {
    const lines: string[] = [];
    const code = await runCli(args, h.ctx, (line) => lines.push(line));
    return { code, out: lines.join('\n') };
  };
  const checkpoints = (): (Checkpoint & { file: string })[] =>
    readdirSync(dir)
      .filter((name) => name.endsWith('.json'))
      .sort()
      .map((file) => ({ ...(JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Checkpoint), file }));
  const newestEvent = async (action: string) =>
    h.db
      .selectFrom('audit_events')
      .select(['id', 'hash'])
      .where('action', '=', action)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
  /** The checkpoint the action called for: it covers the action's event and names it as its reason. */
  async function checkpointFor(action: string): Promise<Checkpoint & { file: string }> {
    const event = await newestEvent(action);
    return h.until(
      async () => checkpoints().find((c) => c.reason === action && c.lastId >= Number(event.id)),
      (found) => found !== undefined,
      `a checkpoint after ${action}`,
      10_000,
    ) as Promise<Checkpoint & { file: string }>;
  }

  it('writes a signed checkpoint after every halt, recall and kill-switch event, to the folder and by email', async () => {
    const scheduled = await h.approvedCampaign({
      subject: 'Later',
      recipients: people(2, 'later'),
      sendAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(scheduled.status).toBe('scheduled');
    expect((await h.api('author', 'POST', `/campaigns/${scheduled.id}/halt`, { reason: 'wrong date' })).status).toBe(200);
    const afterHalt = await checkpointFor('campaign.halt');
    expect(afterHalt).toMatchObject({
      version: 1,
      reason: 'campaign.halt',
      lastHash: (await newestEvent('campaign.halt')).hash,
      keyId: expect.any(String),
      mac: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(afterHalt.file).toBe(`checkpoint-${String(afterHalt.lastId).padStart(12, '0')}.json`);
    const total = await h.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(afterHalt.count).toBe(Number(total.n));

    const sent = await h.approvedCampaign({ subject: 'Sent then recalled', recipients: people(2, 'sent') });
    await h.waitForStatus(sent.id, 'sent');
    expect((await h.api('author', 'POST', `/campaigns/${sent.id}/recall`, { note: 'Sent in error.' })).status).toBe(201);
    await checkpointFor('campaign.recall');

    expect((await h.api('admin', 'POST', '/halt-all', { reason: 'drill' })).status).toBe(200);
    await checkpointFor('kill_switch.engage');
    expect((await h.api('admin', 'POST', '/resume-all')).status).toBe(200);
    const afterRelease = await checkpointFor('kill_switch.release');

    // Each one also went to the archive address, once, with the same signed JSON.
    await h.sink.waitUntil(() => h.sink.to(CHECKPOINT_EMAIL).length >= checkpoints().length, 10_000, 'the checkpoint emails');
    const emailed = h.sink.to(CHECKPOINT_EMAIL).map((m) => JSON.parse(/(\{[\s\S]*\})/.exec(m.parsed.text ?? '')![1]!) as Checkpoint);
    expect(emailed.map((c) => c.lastId)).toEqual(checkpoints().map((c) => c.lastId));
    expect(emailed.at(-1)).toEqual((({ file: _file, ...c }) => c)(afterRelease));

    const verified = await cli('audit', 'verify');
    expect(verified).toEqual({
      code: 0,
      out: `audit chain intact: ${afterRelease.count} events; event ${afterRelease.lastId} matches the signed checkpoint of ${afterRelease.at} (${afterRelease.file})`,
    });
  });

  /** As someone with superuser access to the database would: with the append-only triggers switched off. */
  async function asTamperer(statements: (trx: Transaction<DB>) => Promise<void>) {
    await h.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL session_replication_role = replica`.execute(trx);
      await statements(trx);
    });
  }

  it('reports a truncated chain and a rewritten, recomputed one, on the CLI and the API, where the links alone pass', async () => {
    // Checkpoints of its own: one after a halt, the newest after the kill switch is engaged and released.
    const scheduled = await h.approvedCampaign({
      subject: 'To be tampered with',
      recipients: people(2, 'tamper'),
      sendAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    await h.api('author', 'POST', `/campaigns/${scheduled.id}/halt`, {});
    await checkpointFor('campaign.halt');
    await h.api('admin', 'POST', '/halt-all', {});
    await checkpointFor('kill_switch.engage');
    await h.api('admin', 'POST', '/resume-all');
    const anchor = await checkpointFor('kill_switch.release');
    expect(checkpoints().at(-1)).toEqual(anchor);
    const events = await h.db.selectFrom('audit_events').selectAll().orderBy('id').execute();
    expect(events.at(-1)!.id).toBe(anchor.lastId);

    // Truncation: the newest three events go. Every remaining link still holds.
    const removed = events.slice(-3);
    await asTamperer(async (trx) => {
      await trx.deleteFrom('audit_events').where('id', '>=', removed[0]!.id).execute();
    });
    const truncated = await cli('audit', 'verify');
    expect(truncated.code).toBe(1);
    expect(truncated.out).toBe(
      `audit chain TRUNCATED (${anchor.file}): the checkpoint of ${anchor.at} covers events up to ${anchor.lastId} (${anchor.count} events), but the chain ends at event ${events.at(-4)!.id} (${anchor.count - 3} events): the events after it were removed`,
    );
    await asTamperer(async (trx) => {
      await trx
        .insertInto('audit_events')
        .values(removed.map((e) => ({ ...e, data: JSON.stringify(e.data) })))
        .execute();
    });
    expect((await cli('audit', 'verify')).code).toBe(0);

    // Rewriting: an early event's actor changed, and every hash from it on recomputed.
    const victim = events[2]!;
    await asTamperer(async (trx) => {
      let prev = victim.prev_hash;
      for (const event of events.slice(2)) {
        const actor = event.id === victim.id ? 'someone-else@staff.example.com' : event.actor;
        const hash = chainHash(prev, {
          at: event.at.toISOString(),
          actor,
          action: event.action,
          campaignId: event.campaign_id,
          data: event.data,
        });
        await trx.updateTable('audit_events').set({ actor, prev_hash: prev, hash }).where('id', '=', event.id).execute();
        prev = hash;
      }
    });
    const links = await h.db.selectFrom('audit_events').select(['prev_hash', 'hash']).orderBy('id').execute();
    for (let i = 1; i < links.length; i++) expect(links[i]!.prev_hash).toBe(links[i - 1]!.hash);
    // The first checkpoint that covers the rewritten event is the one that catches it. The workers'
    // start writes a checkpoint too, which may land before the victim (then it still matches).
    const firstCheckpoint = checkpoints().find((c) => c.lastId >= victim.id)!;
    const intact = checkpoints()
      .filter((c) => c.lastId < victim.id)
      .at(-1);
    const since = intact ? `after event ${intact.lastId}, which matches the checkpoint of ${intact.at}` : 'from the first event on';
    const rewritten = await cli('audit', 'verify');
    expect(rewritten.code).toBe(1);
    expect(rewritten.out).toMatch(
      new RegExp(
        `^audit chain REWRITTEN \\(${firstCheckpoint.file}\\): event ${firstCheckpoint.lastId} is not the one the checkpoint of ${firstCheckpoint.at} signed .*: the history up to it was rewritten ${since}$`,
      ),
    );
    const api = await h.api('admin', 'GET', '/audit/verify');
    expect(api.status).toBe(200);
    expect(api.body).toMatchObject({
      ok: false,
      checkpoint: { lastId: anchor.lastId },
      problems: [{ kind: 'rewritten', eventId: firstCheckpoint.lastId, checkpoint: firstCheckpoint.file }],
    });

    // A checkpoint edited to match the rewritten chain is refused: the key is not in the database.
    const forged = {
      ...firstCheckpoint,
      lastHash: (await h.db.selectFrom('audit_events').select('hash').where('id', '=', firstCheckpoint.lastId).executeTakeFirstOrThrow())
        .hash,
    };
    writeFileSync(path.join(dir, 'checkpoint-000000000000.json'), JSON.stringify((({ file: _file, ...c }) => c)(forged)));
    const withForgery = await cli('audit', 'verify');
    expect(withForgery.out.split('\n')).toEqual([
      expect.stringMatching(/^audit chain REWRITTEN/),
      'checkpoint checkpoint-000000000000.json REFUSED: its signature does not match its contents: it was altered or forged',
    ]);

    // With every checkpoint gone, the folder itself says something is missing.
    for (const file of readdirSync(dir)) rmSync(path.join(dir, file), { force: true });
    expect(await cli('audit', 'verify')).toEqual({
      code: 1,
      out: `audit chain TRUNCATED (${dir}): ${dir} holds no good checkpoint though the chain has ${links.length} events: they were removed, or checkpoints were never written`,
    });
  });
});
