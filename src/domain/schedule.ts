import { describeInZone } from './time-zone.js';

/** When an approved campaign goes out: its requested time, but never inside the hold window. */
export function effectiveSendAt(sendAt: Date | null, quorumReachedAt: Date, holdWindowMs: number): Date {
  const holdEnds = quorumReachedAt.getTime() + holdWindowMs;
  return new Date(Math.max(sendAt?.getTime() ?? 0, holdEnds));
}

/** A correction repairs a mistake already in inboxes: it goes as soon as approved, with no cooling-off. */
export function holdWindowMs(kind: 'policy' | 'correction', configuredSeconds: number): number {
  return kind === 'correction' ? 0 : configuredSeconds * 1000;
}

/** What the approval email and page say about when a campaign goes out. */
export function describeSendTime(sendAt: Date | null, timeZone: string): string {
  return sendAt ? describeInZone(sendAt, timeZone) : 'as soon as it is approved (after the hold window)';
}

/** How far in the past a requested send time may be: a form filled in at the current minute is a little late by the time it is saved. */
export const SEND_AT_GRACE_MS = 5 * 60_000;

/** Why a requested send time cannot be accepted, or null: it may not lie in the past, beyond the grace. */
export function sendAtProblem(sendAt: Date, now: Date): string | null {
  if (sendAt.getTime() >= now.getTime() - SEND_AT_GRACE_MS) return null;
  return `${sendAt.toISOString()} is in the past; give a later time, or leave sendAt out to send as soon as it is approved`;
}
