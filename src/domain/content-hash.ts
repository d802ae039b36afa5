import { createHash, type Hash } from 'node:crypto';
import { canonicalJson, sha256Hex } from './canonical.js';
import type { PolicyDecision } from './policy.js';

export interface SnapshotRecipient {
  email: string;
  name: string;
  fields: Record<string, string>;
  /** A correction threads each message under this recipient's own original. */
  replyToMessageId: string | null;
}

/** What submit freezes. Approvers approve the hash of exactly this. */
export interface FrozenContent {
  kind: 'policy' | 'correction';
  subject: string;
  bodyMarkdown: string;
  fromAddress: string;
  fromName: string;
  sendAt: string | null;
  recipientCount: number;
  audienceDigest: string;
  originalCampaignId: string | null;
  /** What turns the Markdown into the bytes recipients get: approvers approve that output. */
  rendererVersion: number;
  mandatory: boolean;
  external: boolean;
  /** Recipients skipped for a suppression at submit. */
  skipped: number;
  /** The first wave's size: its recipients are the first seqs of the snapshot. */
  waveSize: number | null;
  /** What the blast-radius policy decided for this campaign. */
  policy: PolicyDecision | null;
}

export function contentHash(content: FrozenContent): string {
  return sha256Hex(canonicalJson({ v: 1, ...content }));
}

/**
 * Digest of a recipient snapshot fed in address order, a page at a time,
 * so a 100,000-recipient audience never has to be in memory at once. Address order is the order
 * of the addresses' UTF-8 bytes, PostgreSQL's `COLLATE "C"`: the same on every database whatever
 * its collation (ICU's `en-US` puts `a_b@` before `a1b@`, punctuation before digits), where
 * JavaScript's `<` compares UTF-16 units and disagrees with it above U+FFFF.
 */
export class AudienceDigest {
  readonly #hash: Hash = createHash('sha256');
  #count = 0;
  #last: Buffer | null = null;

  add(recipient: SnapshotRecipient): void {
    const address = Buffer.from(recipient.email, 'utf8');
    if (this.#last !== null && Buffer.compare(address, this.#last) <= 0) {
      throw new Error('audience digest needs recipients in strictly ascending address order');
    }
    this.#last = address;
    this.#hash.update(canonicalJson(recipient));
    this.#hash.update('\n');
    this.#count += 1;
  }

  get count(): number {
    return this.#count;
  }

  digest(): string {
    return this.#hash.digest('hex');
  }
}
