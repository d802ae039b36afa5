/** When an approved campaign goes out: its requested time, but never inside the hold window. */
export function effectiveSendAt(sendAt: Date | null, quorumReachedAt: Date, holdWindowMs: number): Date {
  const holdEnds = quorumReachedAt.getTime() + holdWindowMs;
  return new Date(Math.max(sendAt?.getTime() ?? 0, holdEnds));
}

/**
 * The cooling-off after the last approval: the configured one, or the longer one a sensitive list's
 * policy asks for. A correction repairs a mistake already in inboxes: it goes as soon as approved.
 */
export function holdWindowMs(kind: 'policy' | 'correction', configuredSeconds: number, policyHoldMinutes = 0): number {
  return kind === 'correction' ? 0 : Math.max(configuredSeconds, policyHoldMinutes * 60) * 1000;
}

/** What the approval email and page say about when a campaign goes out; a correction has no hold window to wait for. */
export function describeSendTime(sendAt: Date | null, kind: 'policy' | 'correction' = 'policy'): string {
  if (sendAt) return sendAt.toUTCString();
  return kind === 'correction' ? 'as soon as it is approved' : 'as soon as it is approved (after the hold window)';
}
