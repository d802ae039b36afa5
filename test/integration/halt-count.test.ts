import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countHaltable, finishedWindowWalk, haltableCounts } from '../../src/db/deliveries.js';
import { startCampaign } from '../../src/services/sending.js';
import { Harness, people } from '../support/harness.js';

interface PlanNode {
  'Index Name'?: string;
  'Index Cond'?: string;
  Filter?: string;
  'Heap Fetches'?: number;
  'Rows Removed by Filter'?: number;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

const LEDGER = 20_000;
/** Rows 1 to PASSED: the send has been through them (sent, but the last ten still in flight). */
const PASSED = 10_000;

describe("a halt's count on a ledger the send has moved past its statistics", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  /** A campaign PASSED rows into its send, each row moved as a send moves it, past the statistics the fan-out took. */
  async function ledgerMidSend(subject: string): Promise<string> {
    const campaign = await h.approvedCampaign({ subject, recipients: people(10, 'big') });
    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('started');
    await sql`
      INSERT INTO deliveries (campaign_id, seq, email, name, fields, status)
      SELECT ${campaign.id}, g, 'row' || g || '@big.example.com', 'Row ' || g, '{}'::jsonb, 'queued'
      FROM generate_series(11, ${LEDGER}) AS g
    `.execute(h.db);
    await sql`ANALYZE deliveries (campaign_id, status, seq)`.execute(h.db);
    const set = (fromSeq: number, toSeq: number, change: ReturnType<typeof sql>) =>
      sql`UPDATE deliveries SET ${change} WHERE campaign_id = ${campaign.id} AND seq BETWEEN ${fromSeq} AND ${toSeq}`.execute(h.db);
    // Reserved, started, finished: each step leaves a dead version behind, and index entries for it.
    await set(1, PASSED + 50, sql`claim_token = 'sender', claimed_at = now()`);
    await set(1, PASSED, sql`status = 'sending'`);
    await set(1, PASSED - 10, sql`status = 'sent', claim_token = NULL`);
    // The window under way: forty rows reserved, still queued, and ten in flight above them.
    await set(PASSED + 41, PASSED + 50, sql`status = 'sending'`);
    return campaign.id;
  }

  async function explained(statement: ReturnType<typeof sql>, analyze: boolean): Promise<PlanNode> {
    const options = analyze ? sql`(ANALYZE, BUFFERS, FORMAT JSON)` : sql`(FORMAT JSON)`;
    const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN ${options} ${statement}`.execute(h.db);
    const plan = rows[0]!['QUERY PLAN'];
    return ((typeof plan === 'string' ? JSON.parse(plan) : plan) as [{ Plan: PlanNode }])[0].Plan;
  }

  it('counts every queued row it stops, reserved or not, and what is in flight', async () => {
    const campaignId = await ledgerMidSend('Counted');
    expect(await countHaltable(h.db, campaignId, LEDGER)).toEqual({ stopped: LEDGER - PASSED - 10, inFlight: 20 });
    // A temporary failure far below the windows under way waits, queued, for its retry: stopped too.
    await sql`UPDATE deliveries SET status = 'queued', claim_token = NULL WHERE campaign_id = ${campaignId} AND seq = 5000`.execute(h.db);
    expect(await countHaltable(h.db, campaignId, LEDGER)).toEqual({ stopped: LEDGER - PASSED - 10 + 1, inFlight: 20 });
  });

  it('reads how far the send has reached from the status index, never walking the seq index filtered by status', async () => {
    const plan = await explained(haltableCounts(await ledgerMidSend('Planned')), false);
    // From the top, that walk reads every queued row above the send; from the bottom, every row below it.
    const walks = nodesOf(plan).filter(
      (node) =>
        node['Index Name'] === 'deliveries_campaign_id_seq_key' &&
        /status/.test(node.Filter ?? '') &&
        !(/seq >=/.test(node['Index Cond'] ?? '') && /seq <=/.test(node['Index Cond'] ?? '')),
    );
    expect(walks).toEqual([]);
    expect(nodesOf(plan).some((node) => node['Index Name'] === 'deliveries_by_status_seq')).toBe(true);
  });

  it("walks a finished window's entries alone, bounded by its seqs on the status index", async () => {
    const campaignId = await ledgerMidSend('Walked');
    const window = { campaignId, fromSeq: 9801, toSeq: 10000 };
    const nodes = nodesOf(await explained(finishedWindowWalk(window), true));
    const walks = nodes.filter((node) => node['Index Name'] === 'deliveries_by_status_seq');
    expect(walks).toHaveLength(1);
    const bounds = walks[0]!['Index Cond'] ?? '';
    expect(bounds).toMatch(/\(status = s\.status\)/);
    expect(bounds).toMatch(/ROW\(status, seq\) >= ROW\(s\.status, 9801\)/);
    expect(bounds).toMatch(/\(seq <= 10000\)/);
    // Its window's 200 rows left 400 queued entries and 200 sending ones; the 10,000 queued rows above are not read.
    expect(walks[0]!['Heap Fetches']).toBeLessThanOrEqual(600);
  });
});
