import type { Kysely, Transaction } from 'kysely';
import type { AuditAction } from '../domain/audit-sentences.js';
import { AnchoredChainVerifier, type AuditReport, type ChainedEvent } from '../domain/audit-chain.js';
import { allAuditEvents, appendAuditEvent, campaignAuditEvents } from '../db/audit.js';
import type { DB } from '../db/schema.js';
import { readCheckpoints } from './audit-checkpoints.js';
import type { DataContext } from './context.js';

export function recordEvent(
  trx: Transaction<DB>,
  event: { actor: string; action: AuditAction; campaignId: string | null; data?: Record<string, unknown>; at: Date },
): Promise<void> {
  return appendAuditEvent(trx, {
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    campaignId: event.campaignId,
    data: event.data ?? {},
  });
}

/**
 * The whole chain, link by link, and against the signed checkpoints in AUDIT_CHECKPOINT_DIR:
 * a broken link, a truncated chain and a rewritten (recomputed) history each show as a problem.
 * With a folder set, a chain with events and no checkpoint at all is one too.
 */
export async function verifyAuditChain(ctx: DataContext): Promise<AuditReport> {
  const dir = ctx.config.AUDIT_CHECKPOINT_DIR;
  const verifier = new AnchoredChainVerifier(dir ? await readCheckpoints(dir) : [], ctx.config.AUDIT_KEY);
  for await (const event of allAuditEvents(ctx.db)) if (!verifier.push(event)) break;
  const report = verifier.report();
  if (dir && !report.checkpoint && report.last) {
    report.problems.push({
      kind: 'truncated',
      eventId: report.last.id,
      checkpoint: dir,
      message: `${dir} holds no good checkpoint though the chain has ${report.count} events: they were removed, or checkpoints were never written`,
    });
    report.ok = false;
  }
  return report;
}

export function campaignAudit(db: Kysely<DB>, campaignId: string): Promise<ChainedEvent[]> {
  return campaignAuditEvents(db, campaignId);
}
