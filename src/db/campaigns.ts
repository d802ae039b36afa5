import { sql, type Kysely, type Transaction } from 'kysely';
import type { CampaignStatus } from '../domain/campaign-state.js';
import type { SnapshotRecipient } from '../domain/content-hash.js';
import { containsPattern } from './search.js';
import type { AudienceSpec, CampaignKind, CampaignRow, DB, NewCampaign } from './schema.js';

type CampaignChanges = Partial<Omit<NewCampaign, 'id' | 'created_at'>>;

export function insertCampaign(db: Kysely<DB>, campaign: NewCampaign): Promise<CampaignRow> {
  return db.insertInto('campaigns').values(campaign).returningAll().executeTakeFirstOrThrow();
}

export function findCampaign(db: Kysely<DB>, id: string): Promise<CampaignRow | undefined> {
  return db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Locks the row for the rest of the transaction: decisions on one campaign happen one at a time. */
export function lockCampaign(trx: Transaction<DB>, id: string): Promise<CampaignRow | undefined> {
  return trx.selectFrom('campaigns').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

/**
 * A campaign's send gate, a transaction-scoped advisory lock. Row locks let shared lockers that keep
 * overlapping starve an exclusive one: claims and fan-out steps kept a halt's FOR UPDATE waiting up to
 * 400 ms under load. The lock manager queues fairly: work that sends takes the gate shared before it
 * touches the campaign row, a halt takes it exclusive, and so waits only for the work already running.
 */
export function campaignGate(id: string, mode: 'shared' | 'exclusive') {
  const lock = mode === 'shared' ? sql`pg_advisory_xact_lock_shared` : sql`pg_advisory_xact_lock`;
  return sql`${lock}(${GATE_LOCK_SPACE}, hashtext(${id}))`;
}

/** The first key of every gate lock, so that other advisory locks on the database cannot collide with them. */
const GATE_LOCK_SPACE = 0x43534e;

/** A halt's lock: the gate, exclusive, then the row. */
export async function lockCampaignForHalt(trx: Transaction<DB>, id: string): Promise<CampaignRow | undefined> {
  await sql`SELECT ${campaignGate(id, 'exclusive')}`.execute(trx);
  return lockCampaign(trx, id);
}

/** A share lock (the gate, then the row): work that must not overlap a halt or an edit waits for them, and they for it. */
export async function lockCampaignShared(trx: Transaction<DB>, id: string) {
  await sql`SELECT ${campaignGate(id, 'shared')}`.execute(trx);
  return trx.selectFrom('campaigns').select(['status', 'content_hash']).where('id', '=', id).forShare().executeTakeFirst();
}

export interface CampaignSearch {
  /** Part of the subject, any case. */
  subject?: string;
  status?: CampaignStatus;
  kind?: CampaignKind;
  authorId?: string;
}

function searchedCampaigns(db: Kysely<DB>, search: CampaignSearch) {
  let query = db.selectFrom('campaigns');
  if (search.subject) query = query.where('subject', 'ilike', containsPattern(search.subject));
  if (search.status) query = query.where('status', '=', search.status);
  if (search.kind) query = query.where('kind', '=', search.kind);
  if (search.authorId) query = query.where('author_id', '=', search.authorId);
  return query;
}

/** How many campaigns a search finds in all. */
export async function countCampaigns(db: Kysely<DB>, search: CampaignSearch): Promise<number> {
  const row = await searchedCampaigns(db, search)
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Everyone who has written a campaign, for the list's author filter. */
export function campaignAuthors(db: Kysely<DB>) {
  return db
    .selectFrom('users')
    .select(['id', 'name', 'email'])
    .where(({ exists, selectFrom }) => exists(selectFrom('campaigns').select('id').whereRef('campaigns.author_id', '=', 'users.id')))
    .orderBy('name')
    .execute();
}

/** One page of the campaigns a search finds, newest first. */
export function listCampaigns(db: Kysely<DB>, search: CampaignSearch, page: { limit: number; offset: number }): Promise<CampaignRow[]> {
  return searchedCampaigns(db, search)
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
}

/** The conditional update behind every transition: it changes nothing unless the status is still one of `from`. */
export function updateCampaignIf(
  db: Kysely<DB>,
  id: string,
  from: readonly CampaignStatus[],
  changes: CampaignChanges,
): Promise<CampaignRow | undefined> {
  return db
    .updateTable('campaigns')
    .set({ ...changes, updated_at: new Date() })
    .where('id', '=', id)
    .where('status', 'in', [...from])
    .returningAll()
    .executeTakeFirst();
}

export async function addEditor(db: Kysely<DB>, campaignId: string, userId: string): Promise<void> {
  await db
    .insertInto('campaign_editors')
    .values({ campaign_id: campaignId, user_id: userId })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

export async function editorIds(db: Kysely<DB>, campaignId: string): Promise<string[]> {
  const rows = await db.selectFrom('campaign_editors').select('user_id').where('campaign_id', '=', campaignId).execute();
  return rows.map((r) => r.user_id);
}

export async function missingListIds(db: Kysely<DB>, listIds: string[]): Promise<string[]> {
  if (listIds.length === 0) return [];
  const found = await db.selectFrom('lists').select('id').where('id', 'in', listIds).execute();
  const present = new Set(found.map((r) => r.id));
  return listIds.filter((id) => !present.has(id));
}

/**
 * The audience a spec names, one row per address: explicit recipients first, then lists in the
 * order given, the first occurrence of an address winning. In SQL, so a large audience never
 * passes through this process.
 */
function resolvedAudience(spec: AudienceSpec) {
  const explicit = spec.recipients;
  // One list alone is distinct already (its key is list and address): no sort over the whole of it.
  if (explicit.length === 0 && spec.listIds.length === 1)
    return sql`SELECT email, name, fields FROM list_members WHERE list_id = ${spec.listIds[0]!}`;
  return sql`
    SELECT DISTINCT ON (email) email, name, fields
    FROM (
      SELECT e.email, e.name, e.fields::jsonb AS fields, 0 AS source, e.ord AS ord
      FROM unnest(${explicit.map((r) => r.email)}::text[], ${explicit.map((r) => r.name)}::text[],
                  ${explicit.map((r) => JSON.stringify(r.fields))}::text[]) WITH ORDINALITY AS e(email, name, fields, ord)
      UNION ALL
      SELECT m.email, m.name, m.fields, l.ord AS source, 0 AS ord
      FROM list_members m
      JOIN unnest(${spec.listIds}::text[]) WITH ORDINALITY AS l(id, ord) ON m.list_id = l.id
    ) candidates
    ORDER BY email, source, ord`;
}

/** Freezes the audience `resolvedAudience` names. */
export async function snapshotAudience(trx: Transaction<DB>, campaignId: string, spec: AudienceSpec): Promise<number> {
  await trx.deleteFrom('campaign_recipients').where('campaign_id', '=', campaignId).execute();
  const result = await sql`
    INSERT INTO campaign_recipients (campaign_id, seq, email, name, fields)
    SELECT ${campaignId}, row_number() OVER (ORDER BY email COLLATE "C"), email, name, fields
    FROM (${resolvedAudience(spec)}) resolved
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Before anything is frozen: how many recipients the spec resolves to and, for every merge field
 * any of them has (built-in ones included), how many have it non-empty.
 */
export async function audienceFieldFill(db: Kysely<DB>, spec: AudienceSpec): Promise<{ recipients: number; filled: Map<string, number> }> {
  const result = await sql<{ key: string | null; filled: number; named: number; surnamed: number }>`
    WITH audience AS (${resolvedAudience(spec)})
    SELECT NULL AS key, count(*)::int AS filled,
      count(*) FILTER (WHERE btrim(name) <> '')::int AS named,
      count(*) FILTER (WHERE btrim(name) ~ '\\s')::int AS surnamed
    FROM audience
    UNION ALL
    SELECT key, count(*) FILTER (WHERE fields ->> key <> '')::int, 0, 0
    FROM audience, jsonb_object_keys(fields) AS key
    GROUP BY key
  `.execute(db);
  const totals = result.rows.find((r) => r.key === null)!;
  const recipients = Number(totals.filled);
  const filled = new Map(result.rows.flatMap((r) => (r.key === null ? [] : [[r.key, Number(r.filled)] as const])));
  // Built-in fields win over list columns of the same name, as in mergeValues.
  filled
    .set('email', recipients)
    .set('name', Number(totals.named))
    .set('firstName', Number(totals.named))
    .set('lastName', Number(totals.surnamed));
  return { recipients, filled };
}

/** Copies a ready-made snapshot (a correction's audience comes from the ledger, not from lists). */
export async function insertSnapshotFromLedger(
  trx: Transaction<DB>,
  campaignId: string,
  originalId: string,
  statuses: readonly string[],
): Promise<number> {
  await trx.deleteFrom('campaign_recipients').where('campaign_id', '=', campaignId).execute();
  const result = await sql`
    INSERT INTO campaign_recipients (campaign_id, seq, email, name, fields, reply_to_message_id)
    SELECT ${campaignId}, row_number() OVER (ORDER BY email COLLATE "C"), email, name, fields, message_id
    FROM deliveries
    WHERE campaign_id = ${originalId} AND status = ANY(${[...statuses]}::text[])
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0n);
}

/**
 * Seqs `afterSeq + 1` to `afterSeq + limit` of a snapshot, fetched as one JSON array: PGlite
 * spends most of the time of a 100,000-row read on per-row result messages, and one value per
 * page avoids them. A fresh snapshot is numbered in address order (`COLLATE "C"`, the digest's),
 * so these are the next addresses until a first wave renumbers it. A range bounded on both sides
 * reads that page whatever the statistics say. Paged by address after the last one, a snapshot
 * written in the same transaction, which no statistics describe yet, was read with a sort of
 * every row past the key for each page: a million-recipient freeze took 35 s, and 8 s this way.
 */
export async function pageSnapshot(db: Kysely<DB>, campaignId: string, afterSeq: number, limit: number): Promise<SnapshotRecipient[]> {
  const result = await sql<{ page: [string, string, Record<string, string>, string | null][] | null }>`
    SELECT json_agg(json_build_array(email, name, fields, reply_to_message_id) ORDER BY seq) AS page
    FROM campaign_recipients
    WHERE campaign_id = ${campaignId} AND seq > ${afterSeq} AND seq <= ${afterSeq + limit}
  `.execute(db);
  return (result.rows[0]?.page ?? []).map(([email, name, fields, replyToMessageId]) => ({ email, name, fields, replyToMessageId }));
}

export function sampleRecipients(db: Kysely<DB>, campaignId: string, limit: number) {
  return db
    .selectFrom('campaign_recipients')
    .select(['email', 'name', 'fields'])
    .where('campaign_id', '=', campaignId)
    .orderBy('seq')
    .limit(limit)
    .execute();
}

/** How many snapshot recipients carry each custom merge field. */
export async function fieldCoverage(db: Kysely<DB>, campaignId: string): Promise<Map<string, number>> {
  const result = await sql<{ key: string; n: number }>`
    SELECT key, count(*)::int AS n
    FROM campaign_recipients, jsonb_object_keys(fields) AS key
    WHERE campaign_id = ${campaignId}
    GROUP BY key
  `.execute(db);
  return new Map(result.rows.map((r) => [r.key, Number(r.n)]));
}

/** The correction of an original that is still open (anything but cancelled). */
export function openCorrectionOf(db: Kysely<DB>, originalId: string): Promise<CampaignRow | undefined> {
  return db
    .selectFrom('campaigns')
    .selectAll()
    .where('original_campaign_id', '=', originalId)
    .where('status', '!=', 'cancelled')
    .executeTakeFirst();
}

export function campaignsInStatus(db: Kysely<DB>, statuses: CampaignStatus[]): Promise<CampaignRow[]> {
  return db.selectFrom('campaigns').selectAll().where('status', 'in', statuses).orderBy('created_at').execute();
}

export async function recordVersion(trx: Transaction<DB>, campaign: CampaignRow): Promise<void> {
  await trx
    .insertInto('campaign_versions')
    .values({
      campaign_id: campaign.id,
      content_hash: campaign.content_hash!,
      subject: campaign.subject,
      body_markdown: campaign.body_markdown,
      from_address: campaign.from_address,
      from_name: campaign.from_name,
      send_at: campaign.send_at,
      recipient_count: campaign.recipient_count!,
      submitted_at: campaign.submitted_at!,
    })
    .onConflict((oc) => oc.doNothing())
    .execute();
}

/**
 * The last earlier version this approver saw: one they opened a review link for or
 * decided on. Null when this is the first version they are shown.
 */
export function lastVersionSeenBy(db: Kysely<DB>, campaignId: string, approverId: string, currentHash: string) {
  return db
    .selectFrom('campaign_versions')
    .selectAll()
    .where('campaign_id', '=', campaignId)
    .where('content_hash', '!=', currentHash)
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('approval_links')
            .innerJoin('approval_link_openings', 'approval_link_openings.link_id', 'approval_links.id')
            .select('approval_links.id')
            .whereRef('approval_links.content_hash', '=', 'campaign_versions.content_hash')
            .where('approval_links.campaign_id', '=', campaignId)
            .where('approval_links.approver_id', '=', approverId),
        ),
        eb.exists(
          eb
            .selectFrom('approvals')
            .select('approvals.id')
            .whereRef('approvals.content_hash', '=', 'campaign_versions.content_hash')
            .where('approvals.campaign_id', '=', campaignId)
            .where('approvals.approver_id', '=', approverId),
        ),
      ]),
    )
    .orderBy('submitted_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Who the current version's review links went to, and whether each has decided. */
export function askedApprovers(db: Kysely<DB>, campaignId: string, contentHash: string) {
  return db
    .selectFrom('approval_links')
    .innerJoin('users', 'users.id', 'approval_links.approver_id')
    .select(['users.id', 'users.name', 'users.email', 'approval_links.consumed_at'])
    .where('approval_links.campaign_id', '=', campaignId)
    .where('approval_links.content_hash', '=', contentHash)
    .orderBy('users.name')
    .execute();
}

/**
 * A recipient to render a preview for, before anything is frozen: the first explicit one whose
 * address contains `query` (any, without one), else the first such list member.
 */
export async function sampleOfAudience(db: Kysely<DB>, spec: AudienceSpec, query = '') {
  const wanted = query.toLowerCase();
  const explicit = spec.recipients.find((r) => r.email.includes(wanted));
  if (explicit) return explicit;
  if (spec.listIds.length === 0) return undefined;
  let members = db.selectFrom('list_members').select(['email', 'name', 'fields']).where('list_id', 'in', spec.listIds);
  if (wanted) members = members.where('email', 'ilike', `%${wanted.replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
  return members.orderBy('email').limit(1).executeTakeFirst();
}

/** The snapshot's recipients per mail domain, most first, with how many domains there are in all. */
export async function snapshotDomains(db: Kysely<DB>, campaignId: string, limit: number) {
  const result = await sql<{ domain: string; n: number; domains: number }>`
    SELECT split_part(email, '@', 2) AS domain, count(*)::int AS n, (count(*) OVER ())::int AS domains
    FROM campaign_recipients WHERE campaign_id = ${campaignId}
    GROUP BY 1 ORDER BY n DESC, domain LIMIT ${limit}
  `.execute(db);
  return { top: result.rows.map((r) => ({ domain: r.domain, count: Number(r.n) })), domains: Number(result.rows[0]?.domains ?? 0) };
}

/**
 * The values one merge field takes across the snapshot: the most common first, how many distinct
 * values there are and how many recipients have it empty. Built-in fields are derived the way
 * `mergeValues` derives them (first and last name split on whitespace).
 */
export async function snapshotFieldValues(db: Kysely<DB>, campaignId: string, field: string, limit: number) {
  const trimmedName = sql`regexp_replace(name, '^\\s+|\\s+$', '', 'g')`;
  const value =
    field === 'name'
      ? sql`name`
      : field === 'email'
        ? sql`email`
        : field === 'firstName'
          ? sql`(regexp_split_to_array(${trimmedName}, '\\s+'))[1]`
          : field === 'lastName'
            ? sql`array_to_string((regexp_split_to_array(${trimmedName}, '\\s+'))[2:], ' ')`
            : sql`fields ->> ${field}`;
  const result = await sql<{ value: string | null; n: number; distinct_values: number; empty: number }>`
    WITH v AS (SELECT NULLIF(${value}, '') AS value FROM campaign_recipients WHERE campaign_id = ${campaignId}),
    totals AS (SELECT count(DISTINCT value)::int AS distinct_values, count(*) FILTER (WHERE value IS NULL)::int AS empty FROM v)
    SELECT top.value, top.n, totals.distinct_values, totals.empty
    FROM totals LEFT JOIN LATERAL (
      SELECT value, count(*)::int AS n FROM v WHERE value IS NOT NULL GROUP BY value ORDER BY n DESC, value LIMIT ${limit}
    ) top ON true
  `.execute(db);
  const first = result.rows[0];
  return {
    top: result.rows.filter((r) => r.value !== null).map((r) => ({ value: r.value!, count: Number(r.n) })),
    distinct: Number(first?.distinct_values ?? 0),
    empty: Number(first?.empty ?? 0),
  };
}

/** Snapshot recipients whose address contains `query`, in address order. */
export function searchSnapshot(db: Kysely<DB>, campaignId: string, query: string, limit: number) {
  const pattern = `%${query.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return db
    .selectFrom('campaign_recipients')
    .select(['email', 'name', 'fields'])
    .where('campaign_id', '=', campaignId)
    .where('email', 'ilike', pattern)
    .orderBy('email')
    .limit(limit)
    .execute();
}

/**
 * Freezes the suppressions that apply into the snapshot: people who left always, people who opted
 * out unless the campaign is mandatory. Returns how many are skipped.
 */
export async function markSuppressed(trx: Transaction<DB>, campaignId: string, mandatory: boolean): Promise<number> {
  const result = await sql`
    UPDATE campaign_recipients r
    SET skip_reason = CASE s.kind WHEN 'left' THEN 'suppressed: left the organisation' ELSE 'suppressed: opted out of non-mandatory mail' END
        || ' (' || s.reason || ')'
    FROM suppressions s
    WHERE r.campaign_id = ${campaignId} AND r.email = s.email AND (s.kind = 'left' OR NOT ${mandatory})
  `.execute(trx);
  return Number(result.numAffectedRows ?? 0n);
}

/** Snapshot recipients (not skipped) whose domain is none of `ownDomains` nor under one. */
export async function countOutside(db: Kysely<DB>, campaignId: string, ownDomains: readonly string[]): Promise<number> {
  const result = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM campaign_recipients
    WHERE campaign_id = ${campaignId} AND skip_reason IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM unnest(${[...ownDomains]}::text[]) AS own(domain)
        WHERE split_part(email, '@', 2) = own.domain OR split_part(email, '@', 2) LIKE '%.' || own.domain)
  `.execute(db);
  return Number(result.rows[0]?.n ?? 0);
}

export async function listNames(db: Kysely<DB>, listIds: readonly string[]): Promise<string[]> {
  if (listIds.length === 0) return [];
  const rows = await db
    .selectFrom('lists')
    .select('name')
    .where('id', 'in', [...listIds])
    .execute();
  return rows.map((r) => r.name);
}

/**
 * Chooses the first wave and puts it first: members of the seed lists, and about `share` of the
 * rest in every mail domain, picked by a hash of campaign and address so the choice is the same
 * each time. The wave then holds seqs 1..W. Returns W.
 */
export async function chooseFirstWave(
  trx: Transaction<DB>,
  campaignId: string,
  wave: { share: number; seedListIds: readonly string[] },
): Promise<number> {
  await sql`
    WITH eligible AS (
      SELECT email, seq,
        row_number() OVER (PARTITION BY split_part(email, '@', 2) ORDER BY md5(${campaignId} || email)) AS pick,
        count(*) OVER (PARTITION BY split_part(email, '@', 2)) AS in_domain
      FROM campaign_recipients WHERE campaign_id = ${campaignId} AND skip_reason IS NULL),
    chosen AS (
      SELECT email FROM eligible WHERE pick <= ceil(${wave.share}::float8 * in_domain)
      UNION
      SELECT e.email FROM eligible e WHERE e.email IN (SELECT email FROM list_members WHERE list_id = ANY(${[...wave.seedListIds]}::text[])))
    UPDATE campaign_recipients SET seq = -seq
    WHERE campaign_id = ${campaignId} AND email IN (SELECT email FROM chosen)
  `.execute(trx);
  // Negative seqs mark the wave; number it 1..W in its old order, then the rest after it.
  const result = await sql<{ wave: number }>`
    WITH renumbered AS (
      SELECT email, row_number() OVER (ORDER BY seq < 0 DESC, abs(seq)) AS seq, seq < 0 AS in_wave
      FROM campaign_recipients WHERE campaign_id = ${campaignId}),
    moved AS (
      UPDATE campaign_recipients c SET seq = -(r.seq + 1000000000)
      FROM renumbered r WHERE c.campaign_id = ${campaignId} AND c.email = r.email
      RETURNING r.in_wave)
    SELECT count(*) FILTER (WHERE in_wave)::int AS wave FROM moved
  `.execute(trx);
  await sql`UPDATE campaign_recipients SET seq = -seq - 1000000000 WHERE campaign_id = ${campaignId}`.execute(trx);
  return Number(result.rows[0]?.wave ?? 0);
}

/** Campaigns awaiting approval whose requested send time is before `dueBefore`, not yet escalated. */
export function pendingDueBefore(db: Kysely<DB>, dueBefore: Date): Promise<CampaignRow[]> {
  return db
    .selectFrom('campaigns')
    .selectAll()
    .where('status', '=', 'pending_approval')
    .where('send_at', 'is not', null)
    .where('send_at', '<=', dueBefore)
    .where('escalated_at', 'is', null)
    .execute();
}

/** Why snapshot recipients are skipped, and how many for each kind of suppression. */
export async function skipReasons(db: Kysely<DB>, campaignId: string): Promise<{ reason: string; count: number }[]> {
  const result = await sql<{ reason: string; n: number }>`
    SELECT split_part(skip_reason, ' (', 1) AS reason, count(*)::int AS n FROM campaign_recipients
    WHERE campaign_id = ${campaignId} AND skip_reason IS NOT NULL GROUP BY 1 ORDER BY n DESC
  `.execute(db);
  return result.rows.map((r) => ({ reason: r.reason, count: Number(r.n) }));
}
