import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
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

/**
 * A checkpoint anchors the chain outside the database: the newest event's id and hash and the
 * number of events up to it, signed with HMAC-SHA256 under `AUDIT_KEY`, which the database never
 * holds. Whoever can rewrite the table can recompute every hash in it, but cannot sign a new
 * checkpoint: truncation and a recomputed chain both disagree with the last one written.
 */
export const checkpointShape = z.object({
  version: z.literal(1),
  at: z.string(),
  /** Why it was written: `interval`, `start`, or the action that called for one (a halt, a recall, the kill switch). */
  reason: z.string(),
  lastId: z.number().int().min(0),
  lastHash: z.string().regex(/^[0-9a-f]{64}$/),
  count: z.number().int().min(0),
  /** Names the key that signed it, and reveals nothing of it. */
  keyId: z.string(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});
export type Checkpoint = z.infer<typeof checkpointShape>;
export type CheckpointHead = Pick<Checkpoint, 'lastId' | 'lastHash' | 'count'>;

export function auditKeyId(key: string): string {
  return sha256Hex(`countersign-audit-key:${key}`).slice(0, 16);
}

function checkpointMac(checkpoint: Omit<Checkpoint, 'mac'>, key: string): string {
  return createHmac('sha256', key).update(canonicalJson(checkpoint)).digest('hex');
}

export function signCheckpoint(head: CheckpointHead & { at: string; reason: string }, key: string): Checkpoint {
  const body = {
    version: 1 as const,
    at: head.at,
    reason: head.reason,
    lastId: head.lastId,
    lastHash: head.lastHash,
    count: head.count,
    keyId: auditKeyId(key),
  };
  return { ...body, mac: checkpointMac(body, key) };
}

/** The checkpoint, if it is one and `key` signed it; otherwise why not. */
export function checkCheckpoint(content: unknown, key: string | undefined): Checkpoint | string {
  const parsed = checkpointShape.safeParse(content);
  if (!parsed.success) return 'it is not a checkpoint (unreadable or incomplete)';
  if (!key) return 'AUDIT_KEY is not set, so its signature cannot be checked';
  const { mac, ...body } = parsed.data;
  if (body.keyId !== auditKeyId(key)) return `it was signed with another key (${body.keyId}), not AUDIT_KEY (${auditKeyId(key)})`;
  if (!timingSafeEqual(Buffer.from(mac), Buffer.from(checkpointMac(body, key))))
    return 'its signature does not match its contents: it was altered or forged';
  return parsed.data;
}

/** A checkpoint as found outside the database: its name (a file name) and what it holds, not yet trusted. */
export interface CheckpointFile {
  name: string;
  content: unknown;
}

export type AuditProblem =
  | { kind: 'broken'; eventId: number; message: string }
  | { kind: 'rewritten'; eventId: number; checkpoint: string; message: string }
  | { kind: 'truncated'; eventId: number; checkpoint: string; message: string }
  | { kind: 'bad_checkpoint'; checkpoint: string; message: string };

export interface AuditReport {
  ok: boolean;
  /** Events read and found linked, from the first. */
  count: number;
  last: { id: number; hash: string } | null;
  /** The first broken link of the chain itself, if any. */
  brokenAt?: number;
  reason?: string;
  /** The newest well-signed checkpoint; null when there is none, and truncation or a recomputed chain cannot be seen. */
  checkpoint: { name: string; at: string; lastId: number; count: number } | null;
  problems: AuditProblem[];
}

/**
 * The chain checked link by link, in id order, and against every well-signed checkpoint: at
 * each checkpoint's event the hash and the count so far must be the ones it signed, and no
 * checkpoint may reach past the chain's end. Streams, like `ChainVerifier`.
 */
export class AnchoredChainVerifier {
  readonly #chain = new ChainVerifier();
  readonly #pending: (Checkpoint & { name: string })[] = [];
  readonly #problems: AuditProblem[] = [];
  readonly #refused: AuditProblem[] = [];
  readonly #newest: (Checkpoint & { name: string }) | null;
  #count = 0;
  #last: { id: number; hash: string } | null = null;
  #matched: (Checkpoint & { name: string }) | null = null;
  #rewritten = false;

  constructor(files: CheckpointFile[], key: string | undefined) {
    for (const file of files) {
      const checked = checkCheckpoint(file.content, key);
      if (typeof checked === 'string') this.#refused.push({ kind: 'bad_checkpoint', checkpoint: file.name, message: checked });
      else this.#pending.push({ ...checked, name: file.name });
    }
    this.#pending.sort((a, b) => a.lastId - b.lastId || a.at.localeCompare(b.at));
    this.#newest = this.#pending.at(-1) ?? null;
  }

  /** Returns false once a link is broken; later events are not checked. */
  push(event: ChainedEvent): boolean {
    if (!this.#chain.push(event)) return false;
    this.#count += 1;
    this.#last = { id: event.id, hash: event.hash };
    while (!this.#rewritten && this.#pending.length && this.#pending[0]!.lastId <= event.id) {
      const checkpoint = this.#pending.shift()!;
      const since = this.#matched
        ? `after event ${this.#matched.lastId}, which matches the checkpoint of ${this.#matched.at}`
        : 'from the first event on';
      if (checkpoint.lastId < event.id) {
        this.#rewrite(
          checkpoint,
          event.id,
          `event ${checkpoint.lastId}, the newest the checkpoint of ${checkpoint.at} covers, is gone while later events remain: the history was rewritten ${since}`,
        );
      } else if (checkpoint.lastHash !== event.hash) {
        this.#rewrite(
          checkpoint,
          event.id,
          `event ${event.id} is not the one the checkpoint of ${checkpoint.at} signed (hash ${event.hash.slice(0, 12)}…, signed ${checkpoint.lastHash.slice(0, 12)}…): the history up to it was rewritten ${since}`,
        );
      } else if (checkpoint.count !== this.#count) {
        this.#rewrite(
          checkpoint,
          event.id,
          `the checkpoint of ${checkpoint.at} counts ${checkpoint.count} events up to event ${event.id}, the chain has ${this.#count}: events were removed or added ${since}`,
        );
      } else {
        this.#matched = checkpoint;
      }
    }
    return true;
  }

  #rewrite(checkpoint: Checkpoint & { name: string }, eventId: number, message: string): void {
    this.#rewritten = true;
    this.#problems.push({ kind: 'rewritten', eventId, checkpoint: checkpoint.name, message });
  }

  report(): AuditReport {
    const chain = this.#chain.verdict();
    const problems = [...this.#problems];
    if (!chain.ok) problems.unshift({ kind: 'broken', eventId: chain.brokenAt, message: chain.reason });
    const beyond = this.#pending.at(-1);
    if (chain.ok && !this.#rewritten && beyond) {
      const end = this.#last ? `event ${this.#last.id} (${this.#count} events)` : 'no event at all';
      problems.push({
        kind: 'truncated',
        eventId: this.#last?.id ?? 0,
        checkpoint: beyond.name,
        message: `the checkpoint of ${beyond.at} covers events up to ${beyond.lastId} (${beyond.count} events), but the chain ends at ${end}: the events after it were removed`,
      });
    }
    problems.push(...this.#refused);
    const newest = this.#newest
      ? { name: this.#newest.name, at: this.#newest.at, lastId: this.#newest.lastId, count: this.#newest.count }
      : null;
    return {
      ok: problems.length === 0,
      count: this.#count,
      last: this.#last,
      ...(chain.ok ? {} : { brokenAt: chain.brokenAt, reason: chain.reason }),
      checkpoint: newest,
      problems,
    };
  }
}
