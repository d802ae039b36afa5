import { Migrator, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import * as initial from './migrations/001-initial.js';
import * as webSessions from './migrations/003-web-sessions.js';
import * as deliveryStatusSeqIndex from './migrations/004-delivery-status-seq-index.js';
import * as snapshotCampaignCheck from './migrations/005-snapshot-campaign-check-per-statement.js';
import * as approvalIntegrity from './migrations/006-approval-integrity.js';
import * as deliveryReservations from './migrations/007-delivery-reservations.js';
import * as guardrails from './migrations/008-guardrails.js';
import * as signInRequests from './migrations/009-sign-in-requests.js';
import * as retractions from './migrations/010-retractions.js';
import * as approvalVoidReason from './migrations/011-approval-void-reason.js';
import * as importStaging from './migrations/012-import-staging.js';

// Listed in code rather than read from a folder so the same list works from
// TypeScript sources, a compiled build and a bundled CLI alike.
const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '003-web-sessions': webSessions,
  '004-delivery-status-seq-index': deliveryStatusSeqIndex,
  '005-snapshot-campaign-check-per-statement': snapshotCampaignCheck,
  '006-approval-integrity': approvalIntegrity,
  '007-delivery-reservations': deliveryReservations,
  '008-guardrails': guardrails,
  '009-sign-in-requests': signInRequests,
  '010-retractions': retractions,
  '011-approval-void-reason': approvalVoidReason,
  '012-import-staging': importStaging,
};

const provider: MigrationProvider = { getMigrations: async () => MIGRATIONS };

export async function migrateToLatest(db: Kysely<unknown>): Promise<string[]> {
  const migrator = new Migrator({ db, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** Migrations this code knows that the database has not run: empty when it is up to date. */
export async function pendingMigrations(db: Kysely<unknown>): Promise<string[]> {
  const migrations = await new Migrator({ db, provider }).getMigrations();
  return migrations.filter((m) => !m.executedAt).map((m) => m.name);
}
