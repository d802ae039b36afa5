/** The zone's offset from UTC at an instant, in milliseconds (positive east of Greenwich). */
export function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(instant);
  const part = (type: string) => Number(parts.find((p) => p.type === type)!.value);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return asUtc - Math.floor(instant.getTime() / 1000) * 1000;
}

export function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?$/;
const DAY_MS = 86_400_000;

/**
 * A wall-clock time (`2026-12-01T09:30`) in a zone, as the instant it names; DST-aware. A time the
 * clocks show twice is the first showing; a time they skip keeps the offset from before the change,
 * so it lands as far after the change as it was meant to be, never before it.
 */
export function zonedLocalToUtc(local: string, timeZone: string): Date {
  const wall = LOCAL_DATE_TIME.test(local) ? Date.parse(`${local.length === 16 ? `${local}:00` : local}Z`) : NaN;
  // Date.parse rolls 30 February over into March: a time the calendar lacks is a typo, not a date.
  if (Number.isNaN(wall) || new Date(wall).toISOString().slice(0, local.length) !== local)
    throw new RangeError(`not a date and time: ${local}`);
  const offsetBefore = zoneOffsetMs(new Date(wall - DAY_MS), timeZone);
  const offsetAfter = zoneOffsetMs(new Date(wall + DAY_MS), timeZone);
  const showing = [wall - offsetBefore, wall - offsetAfter].filter(
    (instant) => instant + zoneOffsetMs(new Date(instant), timeZone) === wall,
  );
  return new Date(showing.length ? Math.min(...showing) : wall - offsetBefore);
}

/** The instant as wall-clock time in a zone, in the form a datetime-local input takes. */
export function utcToZonedLocal(instant: Date, timeZone: string): string {
  return new Date(instant.getTime() + zoneOffsetMs(instant, timeZone)).toISOString().slice(0, 16);
}

/** An instant as people read it, named with its zone: "Mon 30 Nov 2026, 14:00 Europe/Paris". */
export function describeInZone(instant: Date, timeZone: string): string {
  const wall = new Intl.DateTimeFormat('en-GB', {
    timeZone,
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(instant);
  return `${wall.replace(/^(\w+),/, '$1')} ${timeZone}`;
}
