import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countHaltable, haltableCounts } from '../../src/db/deliveries.js';
import { startCampaign } from '../../src/services/sending.js';
import { Harness, people } from '../support/harness.js';

interface PlanNode {
  'Index Name'?: string;
  Filter?: string;
  Plans?: PlanNode[];
}
const nodesOf = (node: PlanNode): PlanNode[] => [node, ...(node.Plans ?? []).flatMap(nodesOf)];

const LEDGER = 20_000;

describe("a halt's count on a ledger the send has moved past its statistics", () => {
  let h: Harness;

  beforeAll(async () => {
    h = await Harness.start({ workers: false });
    await h.addAuthorAndApprovers();
  });
  afterAll(() => h?.stop());

  it('counts what it stops and what is in flight, reading how far the send has reached from the status index', async () => {
    const campaign = await h.approvedCampaign({ subject: 'Big ledger', recipients: people(10, 'big') });
    expect(await startCampaign(h.ctx, { campaignId: campaign.id, contentHash: campaign.contentHash })).toBe('started');
    await sql`
      INSERT INTO deliveries (campaign_id, seq, email, name, fields, status)
      SELECT ${campaign.id}, g, 'row' || g || '@big.example.com', 'Row ' || g, '{}'::jsonb, 'queued'
      FROM generate_series(11, ${LEDGER}) AS g
    `.execute(h.db);
    // What the fan-out leaves: statistics taken while every row was queued.
    await sql`ANALYZE deliveries (campaign_id, status, seq)`.execute(h.db);
    const set = (fromSeq: number, toSeq: number, change: ReturnType<typeof sql>) =>
      sql`UPDATE deliveries SET ${change} WHERE campaign_id = ${campaign.id} AND seq BETWEEN ${fromSeq} AND ${toSeq}`.execute(h.db);
    // Each row as a send moves it: reserved, started, finished.
    await set(1, 2012, sql`claim_token = 'sender', claimed_at = now()`);
    await set(1, 2012, sql`status = 'sending'`);
    await set(1, 2000, sql`status = 'sent', claim_token = NULL`);
    await set(2011, 2012, sql`status = 'failed', claim_token = NULL`);

    expect(await countHaltable(h.db, campaign.id, LEDGER)).toEqual({ stopped: LEDGER - 2012, inFlight: 10 });

    const { rows } = await sql<{ 'QUERY PLAN': unknown }>`EXPLAIN (FORMAT JSON) ${haltableCounts(campaign.id)}`.execute(h.db);
    const explained = rows[0]!['QUERY PLAN'];
    const [{ Plan: plan }] = (typeof explained === 'string' ? JSON.parse(explained) : explained) as [{ Plan: PlanNode }];
    // Walking the seq index down from the top, filtering by status, reads every queued row above the send.
    const walks = nodesOf(plan).filter(
      (node) => node['Index Name'] === 'deliveries_campaign_id_seq_key' && /status/.test(node.Filter ?? ''),
    );
    expect(walks).toEqual([]);
    expect(nodesOf(plan).some((node) => node['Index Name'] === 'deliveries_by_status_seq')).toBe(true);
  });
});
