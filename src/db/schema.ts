import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type { VoidReason } from '../domain/approval-wording.js';
import type { CampaignStatus } from '../domain/campaign-state.js';
import type { DeliveryStatus } from '../domain/delivery.js';
import type { Role } from '../domain/inputs.js';
import type { FirstWaveSpec, PolicyDecision } from '../domain/policy.js';
import type { DryRunOutcome, RetractionItemStatus, RetractionStatus } from '../domain/retraction.js';

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type Json<T> = ColumnType<T, string, string>;

export type CampaignKind = 'policy' | 'correction';

export interface AudienceSpec {
  listIds: string[];
  recipients: { email: string; name: string; fields: Record<string, string> }[];
}

export interface UsersTable {
  id: string;
  email: string;
  name: string;
  roles: ColumnType<Role[], Role[], Role[]>;
  created_at: Generated<Date>;
  disabled_at: Timestamp | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  token_hash: string;
  label: string;
  created_at: Generated<Date>;
  revoked_at: Timestamp | null;
}

export interface ListsTable {
  id: string;
  name: string;
  created_by: string;
  created_at: Generated<Date>;
}

export interface ListMembersTable {
  list_id: string;
  email: string;
  name: string;
  fields: Json<Record<string, string>>;
}

/** An import's rows as they arrived, until it is merged into its list or refused. */
export interface ImportRowsTable {
  import_id: string;
  ord: number;
  email: string;
  name: string;
  fields: Json<Record<string, string>>;
  staged_at: Generated<Date>;
}

export interface CampaignsTable {
  id: string;
  kind: CampaignKind;
  status: CampaignStatus;
  subject: string;
  body_markdown: string;
  from_address: string;
  from_name: string;
  audience: Json<AudienceSpec>;
  send_at: Timestamp | null;
  required_approvals: number;
  author_id: string;
  content_hash: string | null;
  audience_digest: string | null;
  recipient_count: number | null;
  submitted_at: Timestamp | null;
  quorum_reached_at: Timestamp | null;
  scheduled_for: Timestamp | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  halted_at: Timestamp | null;
  halt_reason: string | null;
  original_campaign_id: string | null;
  renderer_version: number | null;
  /** Sent to people who opted out of non-mandatory mail too (never to people who left). */
  mandatory: Generated<boolean>;
  /** Marked as meant for recipients outside the organisation, where the policy asks for it. */
  external: Generated<boolean>;
  /** The first wave the author asked for; the policy may impose one (see `policy`). */
  first_wave: Json<FirstWaveSpec | null> | null;
  /** What the policy decided at submit, frozen with the content. */
  policy: Json<PolicyDecision | null> | null;
  /** Snapshot recipients skipped for a suppression, frozen at submit. */
  skipped_count: number | null;
  /** The first `wave_size` seqs of the snapshot are the first wave. */
  wave_size: number | null;
  wave_stage: 'first' | 'paused' | 'rest' | null;
  wave_paused_until: Timestamp | null;
  /** When admins were told the send time neared without a quorum. */
  escalated_at: Timestamp | null;
  created_at: Generated<Date>;
  updated_at: Timestamp;
}

export interface CampaignEditorsTable {
  campaign_id: string;
  user_id: string;
}

export interface CampaignRecipientsTable {
  campaign_id: string;
  seq: number;
  email: string;
  name: string;
  fields: Json<Record<string, string>>;
  /** For a correction: this recipient's own Message-ID of the original, to thread under it. */
  reply_to_message_id: string | null;
  /** A suppression found when the audience was frozen: the row is `skipped` with this reason. */
  skip_reason: string | null;
}

export interface ApprovalsTable {
  id: string;
  campaign_id: string;
  approver_id: string;
  content_hash: string;
  decision: 'approve' | 'reject';
  reason: string | null;
  via: 'api' | 'link';
  created_at: Generated<Date>;
  voided_at: Timestamp | null;
  /** Why it stopped counting; empty for decisions voided before reasons were kept. */
  void_reason: VoidReason | null;
}

export interface ApprovalLinksTable {
  id: string;
  campaign_id: string;
  approver_id: string;
  content_hash: string;
  token_hash: string;
  expires_at: Timestamp;
  created_at: Generated<Date>;
  consumed_at: Timestamp | null;
  /** When a reminder with a fresh link replaced it. */
  reminded_at: Timestamp | null;
}

export interface ApprovalLinkOpeningsTable {
  id: Generated<number>;
  link_id: string;
  opened_at: Generated<Date>;
  method: string;
  ip: string;
  user_agent: string;
}

export interface DeliveriesTable {
  campaign_id: string;
  seq: number;
  email: string;
  name: string;
  fields: Json<Record<string, string>>;
  reply_to_message_id: string | null;
  status: DeliveryStatus;
  message_id: string | null;
  attempts: Generated<number>;
  smtp_response: string | null;
  /** When the row was reserved, or when its SMTP transaction started once it is `sending`. */
  claimed_at: Timestamp | null;
  /** The reservation of the worker about to send it; a stale one may be taken over. */
  claim_token: string | null;
  finished_at: Timestamp | null;
}

export interface AuditEventsTable {
  id: Generated<number>;
  at: Timestamp;
  actor: string;
  action: string;
  campaign_id: string | null;
  data: Json<Record<string, unknown>>;
  prev_hash: string;
  hash: string;
}

export interface SystemStateTable {
  key: string;
  value: Json<Record<string, unknown>>;
  updated_at: Timestamp;
}

/** A request to sign in, written alike for any address; the link and code exist only once a user's email is sent. */
export interface SignInLinksTable {
  id: string;
  /** The address as asked for, normalised; a user or not. */
  email: string;
  /** Set, with the hashes, when the notify worker finds the address is an active user and sends the email. */
  user_id: string | null;
  token_hash: string | null;
  /** Hash of the short code in the same email, typed into the asking browser instead of opening the link there. */
  code_hash: string | null;
  code_attempts: Generated<number>;
  /** Hash of a nonce in a cookie of the browser that asked: link and code sign in that browser only. */
  browser_hash: string;
  expires_at: Timestamp;
  created_at: Generated<Date>;
  sent_at: Timestamp | null;
  consumed_at: Timestamp | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  token_hash: string;
  csrf_token: string;
  created_at: Generated<Date>;
  expires_at: Timestamp;
  revoked_at: Timestamp | null;
}

/** Each submitted version, so an approver can see what changed since the one they last saw. */
export interface CampaignVersionsTable {
  campaign_id: string;
  content_hash: string;
  subject: string;
  body_markdown: string;
  from_address: string;
  from_name: string;
  send_at: Timestamp | null;
  recipient_count: number;
  submitted_at: Timestamp;
}

export interface ListChangesTable {
  id: Generated<string>;
  list_id: string;
  user_id: string;
  members: number;
  at: Generated<Date>;
}

export interface RoleGrantsTable {
  id: string;
  user_id: string;
  roles: ColumnType<Role[], Role[], Role[]>;
  requested_by: string;
  requested_at: Generated<Date>;
  decided_by: string | null;
  decided_at: Timestamp | null;
  decision: 'confirmed' | 'cancelled' | null;
}

export interface SuppressionsTable {
  email: string;
  kind: 'left' | 'opted_out';
  reason: string;
  added_by: string;
  added_at: Generated<Date>;
}

export interface RetractionsTable {
  id: string;
  /** The original campaign, whose messages it removes. */
  campaign_id: string;
  correction_id: string;
  status: RetractionStatus;
  backend: string;
  requested_by: string;
  /** The correction's approvers; an admin comes on top. */
  required_approvals: number;
  created_at: Timestamp;
  checked_at: Timestamp | null;
  started_at: Timestamp | null;
  finished_at: Timestamp | null;
  halted_at: Timestamp | null;
  halt_reason: string | null;
}

/** One recipient of the original: the Message-ID the ledger recorded, what the dry run found, what was done. */
export interface RetractionItemsTable {
  retraction_id: string;
  /** The original delivery's seq. */
  seq: number;
  email: string;
  message_id: string | null;
  dry_run: DryRunOutcome | null;
  dry_run_response: string | null;
  status: Generated<RetractionItemStatus>;
  response: string | null;
  attempts: Generated<number>;
  claim_token: string | null;
  claimed_at: Timestamp | null;
  finished_at: Timestamp | null;
}

export interface RetractionApprovalsTable {
  retraction_id: string;
  approver_id: string;
  created_at: Timestamp;
}

export interface DB {
  users: UsersTable;
  api_tokens: ApiTokensTable;
  lists: ListsTable;
  list_members: ListMembersTable;
  import_rows: ImportRowsTable;
  campaigns: CampaignsTable;
  campaign_editors: CampaignEditorsTable;
  campaign_recipients: CampaignRecipientsTable;
  approvals: ApprovalsTable;
  approval_links: ApprovalLinksTable;
  approval_link_openings: ApprovalLinkOpeningsTable;
  deliveries: DeliveriesTable;
  audit_events: AuditEventsTable;
  system_state: SystemStateTable;
  sign_in_links: SignInLinksTable;
  sessions: SessionsTable;
  campaign_versions: CampaignVersionsTable;
  list_changes: ListChangesTable;
  role_grants: RoleGrantsTable;
  suppressions: SuppressionsTable;
  retractions: RetractionsTable;
  retraction_items: RetractionItemsTable;
  retraction_approvals: RetractionApprovalsTable;
}

export type UserRow = Selectable<UsersTable>;
export type CampaignRow = Selectable<CampaignsTable>;
export type NewCampaign = Insertable<CampaignsTable>;
export type DeliveryRow = Selectable<DeliveriesTable>;
export type RetractionRow = Selectable<RetractionsTable>;
export type RetractionItemRow = Selectable<RetractionItemsTable>;
