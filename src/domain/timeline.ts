/** Bucket widths a deliveries-over-time chart may use, in seconds: round numbers a reader can take in. */
const BUCKET_SECONDS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21_600, 43_200, 86_400] as const;

/** At most this many bars, so each stays wide enough to see and hover. */
export const MAX_BUCKETS = 60;

/**
 * The narrowest bucket that draws a send lasting `spanSeconds` in at most MAX_BUCKETS bars. Buckets
 * are aligned to the clock, so a span of `s` seconds touches at most ceil(s / bucket) + 1 of them.
 */
export function bucketSecondsFor(spanSeconds: number): number {
  const span = Math.max(0, spanSeconds);
  return BUCKET_SECONDS.find((b) => Math.ceil(span / b) + 1 <= MAX_BUCKETS) ?? Math.ceil(span / (MAX_BUCKETS - 1));
}

/** "per second", "per 5 seconds", "per minute", "per 15 minutes", "per hour". */
export function describeBucket(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? 'per hour' : `per ${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'per minute' : `per ${seconds / 60} minutes`;
  return seconds === 1 ? 'per second' : `per ${seconds} seconds`;
}
