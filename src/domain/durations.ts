/** A length of time as a person says it: "20 seconds", "10 minutes", "1 hour 30 minutes". */
export function describeDuration(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (seconds < 60) return unit(seconds, 'second');
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const parts = [hours ? unit(hours, 'hour') : '', minutes ? unit(minutes, 'minute') : '', rest && !hours ? unit(rest, 'second') : ''];
  return parts.filter(Boolean).join(' ');
}

/** The campaign page's line on the cooling-off after the last approval; corrections have none. */
export function describeHoldWindow(kind: 'policy' | 'correction', seconds: number): string {
  if (kind === 'correction') return 'none: a correction goes as soon as it is approved';
  if (seconds <= 0) return 'none: it goes as soon as it is approved';
  return `${describeDuration(seconds)} after the last approval`;
}
