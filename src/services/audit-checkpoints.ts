import { link, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config.js';
import { checkCheckpoint, signCheckpoint, type Checkpoint, type CheckpointFile } from '../domain/audit-chain.js';
import { escapeHtml } from '../domain/merge-fields.js';
import { auditHead, newestEventWithAction } from '../db/audit.js';
import type { AppContext } from './context.js';
import { queueNotifications } from './dispatch.js';

/** Each of these calls for a checkpoint within a second of it: the moments a rewritten history would matter most. */
export const CHECKPOINT_ACTIONS = ['campaign.halt', 'campaign.recall', 'kill_switch.engage', 'kill_switch.release'] as const;
const TRIGGER_POLL_MS = 1000;
const FILE_NAME = /^checkpoint-\d{12}\.json$/;
const EMAIL_DEDUPE_SECONDS = 7 * 24 * 3600;

export function checkpointsConfigured(config: Config): boolean {
  return Boolean(config.AUDIT_KEY && (config.AUDIT_CHECKPOINT_DIR || config.AUDIT_CHECKPOINT_EMAIL));
}

/** Every checkpoint file in the folder, not yet trusted; none when there is no folder. */
export async function readCheckpoints(dir: string): Promise<CheckpointFile[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  return Promise.all(
    names
      .filter((name) => FILE_NAME.test(name))
      .sort()
      .map(async (name) => {
        const text = await readFile(path.join(dir, name), 'utf8');
        try {
          return { name, content: JSON.parse(text) as unknown };
        } catch {
          return { name, content: null };
        }
      }),
  );
}

/** Created whole or not at all, and never over another: the first process to anchor a head wins. */
async function writeOnce(dir: string, name: string, text: string): Promise<boolean> {
  await mkdir(dir, { recursive: true });
  const temporary = path.join(dir, `.${name}.${process.pid}.${Date.now()}.tmp`);
  await writeFile(temporary, text, { mode: 0o444 });
  try {
    await link(temporary, path.join(dir, name));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(temporary, { force: true });
  }
}

/**
 * Signs the chain's current head and writes it to AUDIT_CHECKPOINT_DIR and/or emails it to
 * AUDIT_CHECKPOINT_EMAIL, unless `coveredId` already covers it. Reads only committed events, so
 * a checkpoint never names an event whose transaction could still roll back.
 */
export async function writeCheckpoint(ctx: AppContext, reason: string, coveredId = 0): Promise<Checkpoint | null> {
  const { AUDIT_KEY: key, AUDIT_CHECKPOINT_DIR: dir, AUDIT_CHECKPOINT_EMAIL: email } = ctx.config;
  if (!key) return null;
  const head = await auditHead(ctx.db);
  if (!head || head.lastId <= coveredId) return null;
  const checkpoint = signCheckpoint({ ...head, at: ctx.now().toISOString(), reason }, key);
  const name = `checkpoint-${String(head.lastId).padStart(12, '0')}.json`;
  const text = `${JSON.stringify(checkpoint, null, 2)}\n`;
  if (dir && !(await writeOnce(dir, name, text))) return checkpoint;
  // Several worker processes may anchor the same head: one email per head.
  if (
    email &&
    (await ctx.queues.redis.set(`${ctx.queues.prefix}:audit-checkpoint:${head.lastId}`, '1', 'EX', EMAIL_DEDUPE_SECONDS, 'NX'))
  ) {
    const intro = `Countersign's audit chain, signed at ${checkpoint.at} (${reason}). Keep this message: \`countersign audit verify\` compares the chain with checkpoints like it. Save the JSON below as ${name} in AUDIT_CHECKPOINT_DIR to check against it.`;
    await queueNotifications(ctx, [
      {
        to: email,
        subject: `Countersign audit checkpoint: event ${head.lastId}`,
        text: `${intro}\n\n${text}`,
        html: `<p>${escapeHtml(intro)}</p><pre>${escapeHtml(text)}</pre>`,
      },
    ]);
  }
  return checkpoint;
}

/** The newest well-signed checkpoint in the folder covers events up to this id (0 without one). */
async function coveredByFolder(config: Config): Promise<number> {
  if (!config.AUDIT_CHECKPOINT_DIR) return 0;
  const checkpoints = (await readCheckpoints(config.AUDIT_CHECKPOINT_DIR)).map((file) => checkCheckpoint(file.content, config.AUDIT_KEY));
  return Math.max(0, ...checkpoints.map((c) => (typeof c === 'string' ? 0 : c.lastId)));
}

export interface AuditCheckpoints {
  close(): Promise<void>;
}

/**
 * Run by each worker process: a checkpoint at start, within a second of every halt, recall and
 * kill-switch event, and every AUDIT_CHECKPOINT_INTERVAL_MS when there are new events.
 */
export function startAuditCheckpoints(ctx: AppContext, log: (line: string) => void = () => {}): AuditCheckpoints {
  let covered: number | undefined;
  let lastWrite = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const tick = async () => {
    covered ??= await coveredByFolder(ctx.config);
    const trigger = await newestEventWithAction(ctx.db, covered, CHECKPOINT_ACTIONS);
    const due = Date.now() - lastWrite >= ctx.config.AUDIT_CHECKPOINT_INTERVAL_MS;
    if (!trigger && !due) return;
    const checkpoint = await writeCheckpoint(ctx, trigger?.action ?? (lastWrite ? 'interval' : 'start'), covered);
    if (checkpoint) covered = checkpoint.lastId;
    lastWrite = Date.now();
  };
  let running: Promise<void> = Promise.resolve();
  const schedule = (delay: number) => {
    if (closed) return;
    timer = setTimeout(() => {
      running = tick()
        .catch((error: Error) => log(`audit checkpoint failed: ${error.message}`))
        .finally(() => schedule(TRIGGER_POLL_MS));
    }, delay);
  };
  schedule(0);
  return {
    close: async () => {
      closed = true;
      clearTimeout(timer);
      await running;
    },
  };
}
