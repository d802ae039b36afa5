/** When an approved campaign goes out: its requested time, but never inside the hold window. */
export function effectiveSendAt(sendAt: Date | null, quorumReachedAt: Date, holdWindowMs: number): Date {
  const holdEnds = quorumReachedAt.getTime() + holdWindowMs;
  return new Date(Math.max(sendAt?.getTime() ?? 0, holdEnds));
}
