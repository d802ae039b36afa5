import { canonicalJson, sha256Hex } from './canonical.js';

export interface AuditEventBody {
  at: string;
  actor: string;
  action: string;
  campaignId: string | null;
  data: Record<string, unknown>;
}

export const GENESIS_HASH = '0'.repeat(64);

export function chainHash(prevHash: string, event: AuditEventBody): string {
  return sha256Hex(prevHash + canonicalJson(event));
}

export interface ChainedEvent extends AuditEventBody {
  id: number;
  prevHash: string;
  hash: string;
}

export type ChainVerdict = { ok: true; count: number } | { ok: false; brokenAt: number; reason: string };

/** Checks the chain one event at a time, in id order, so it never needs the whole table in memory. */
export class ChainVerifier {
  #prev: string;
  #count = 0;
  #broken: { brokenAt: number; reason: string } | null = null;

  constructor(startHash = GENESIS_HASH) {
    this.#prev = startHash;
  }

  /** Returns false once a link is broken; later events are not checked. */
  push(event: ChainedEvent): boolean {
    if (this.#broken) return false;
    if (event.prevHash !== this.#prev) {
      this.#broken = { brokenAt: event.id, reason: 'prev_hash does not match the hash of the event before it' };
      return false;
    }
    const { id: _id, prevHash: _prev, hash, ...body } = event;
    if (chainHash(this.#prev, body) !== hash) {
      this.#broken = { brokenAt: event.id, reason: 'hash does not match the event content' };
      return false;
    }
    this.#prev = hash;
    this.#count += 1;
    return true;
  }

  verdict(): ChainVerdict {
    return this.#broken ? { ok: false, ...this.#broken } : { ok: true, count: this.#count };
  }
}

export function verifyChain(events: Iterable<ChainedEvent>): ChainVerdict {
  const verifier = new ChainVerifier();
  for (const event of events) if (!verifier.push(event)) break;
  return verifier.verdict();
}
