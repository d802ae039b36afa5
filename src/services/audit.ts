import type { Kysely, Transaction } from 'kysely';
import { ChainVerifier, type ChainedEvent, type ChainVerdict } from '../domain/audit-chain.js';
import { allAuditEvents, appendAuditEvent, campaignAuditEvents } from '../db/audit.js';
import type { DB } from '../db/schema.js';

export function recordEvent(
  trx: Transaction<DB>,
  event: { actor: string; action: string; campaignId: string | null; data?: Record<string, unknown>; at: Date },
): Promise<void> {
  return appendAuditEvent(trx, {
    at: event.at.toISOString(),
    actor: event.actor,
    action: event.action,
    campaignId: event.campaignId,
    data: event.data ?? {},
  });
}

export async function verifyAuditChain(db: Kysely<DB>): Promise<ChainVerdict> {
  const verifier = new ChainVerifier();
  for await (const event of allAuditEvents(db)) if (!verifier.push(event)) break;
  return verifier.verdict();
}

export function campaignAudit(db: Kysely<DB>, campaignId: string): Promise<ChainedEvent[]> {
  return campaignAuditEvents(db, campaignId);
}
