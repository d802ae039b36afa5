import { describe, expect, it } from 'vitest';
import { describeInZone, isTimeZone, utcToZonedLocal, zonedLocalToUtc, zoneOffsetMs } from '../../src/domain/time-zone.js';

const HOUR = 3_600_000;
const MINUTE = 60_000;
const at = (iso: string) => new Date(iso);
const utc = (local: string, zone: string) => zonedLocalToUtc(local, zone).toISOString();

describe('zoneOffsetMs', () => {
  it.each([
    ['Europe/Berlin', '2026-01-15T12:00:00Z', 1 * HOUR],
    ['Europe/Berlin', '2026-07-15T12:00:00Z', 2 * HOUR],
    ['America/New_York', '2026-01-15T12:00:00Z', -5 * HOUR],
    ['America/New_York', '2026-07-15T12:00:00Z', -4 * HOUR],
    ['UTC', '2026-07-15T12:00:00Z', 0],
    ['Asia/Kolkata', '2026-07-15T12:00:00Z', 5.5 * HOUR],
    ['Australia/Lord_Howe', '2026-07-15T12:00:00Z', 10.5 * HOUR],
    ['Australia/Lord_Howe', '2026-01-15T12:00:00Z', 11 * HOUR],
    ['America/St_Johns', '2026-01-15T12:00:00Z', -3.5 * HOUR],
  ])('%s at %s is %d ms', (zone, instant, offset) => {
    expect(zoneOffsetMs(at(instant), zone)).toBe(offset);
  });

  it('changes at the very instant the clocks change (Berlin, spring 2026: 01:00 UTC)', () => {
    expect(zoneOffsetMs(at('2026-03-29T00:59:59.999Z'), 'Europe/Berlin')).toBe(1 * HOUR);
    expect(zoneOffsetMs(at('2026-03-29T01:00:00.000Z'), 'Europe/Berlin')).toBe(2 * HOUR);
  });

  it('is not thrown off by milliseconds', () => {
    expect(zoneOffsetMs(at('2026-07-15T12:00:00.999Z'), 'America/New_York')).toBe(-4 * HOUR);
  });
});

describe('isTimeZone', () => {
  it.each(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Etc/GMT+5'])('accepts %s', (zone) => {
    expect(isTimeZone(zone)).toBe(true);
  });

  it.each(['', 'Mars/Olympus', 'Europe/Berlin ', 'Berlin', 'GMT+25', 'Europe/Berlin; DROP TABLE'])('refuses %j', (zone) => {
    expect(isTimeZone(zone)).toBe(false);
  });

  it('every zone the compose form offers is one it accepts', () => {
    const offered = Intl.supportedValuesOf('timeZone');
    expect(offered.length).toBeGreaterThan(300);
    expect(offered.filter((zone) => !isTimeZone(zone))).toEqual([]);
  });
});

describe('zonedLocalToUtc (the compose form\'s "send at" in the author\'s zone)', () => {
  it.each([
    ['2026-12-01T09:30', 'Europe/Berlin', '2026-12-01T08:30:00.000Z'],
    ['2026-07-01T09:30', 'Europe/Berlin', '2026-07-01T07:30:00.000Z'],
    ['2026-12-01T09:30', 'America/New_York', '2026-12-01T14:30:00.000Z'],
    ['2026-07-01T09:30', 'America/New_York', '2026-07-01T13:30:00.000Z'],
    ['2026-07-01T09:30', 'UTC', '2026-07-01T09:30:00.000Z'],
    ['2026-07-01T09:30', 'Asia/Kolkata', '2026-07-01T04:00:00.000Z'],
    ['2026-12-31T23:30', 'America/New_York', '2027-01-01T04:30:00.000Z'],
    ['2027-01-01T00:30', 'Europe/Berlin', '2026-12-31T23:30:00.000Z'],
    ['2028-02-29T12:00', 'Europe/Berlin', '2028-02-29T11:00:00.000Z'],
    ['2026-07-01T09:30:15', 'America/New_York', '2026-07-01T13:30:15.000Z'],
  ])('%s in %s is %s', (local, zone, expected) => {
    expect(utc(local, zone)).toBe(expected);
  });

  describe('a time the clocks skip (spring forward) sends that long after the change, never before it', () => {
    it.each([
      // Berlin, 29 March 2026: 02:00 CET becomes 03:00 CEST (01:00 UTC).
      ['2026-03-29T02:00', 'Europe/Berlin', '2026-03-29T01:00:00.000Z', '2026-03-29T03:00'],
      ['2026-03-29T02:30', 'Europe/Berlin', '2026-03-29T01:30:00.000Z', '2026-03-29T03:30'],
      ['2026-03-29T02:59', 'Europe/Berlin', '2026-03-29T01:59:00.000Z', '2026-03-29T03:59'],
      // New York, 8 March 2026: 02:00 EST becomes 03:00 EDT (07:00 UTC).
      ['2026-03-08T02:00', 'America/New_York', '2026-03-08T07:00:00.000Z', '2026-03-08T03:00'],
      ['2026-03-08T02:30', 'America/New_York', '2026-03-08T07:30:00.000Z', '2026-03-08T03:30'],
      // Lord Howe Island moves its clocks by half an hour: 02:00 becomes 02:30.
      ['2026-10-04T02:15', 'Australia/Lord_Howe', '2026-10-03T15:45:00.000Z', '2026-10-04T02:45'],
    ])('%s in %s is %s, which the clock there shows as %s', (local, zone, expected, shown) => {
      expect(utc(local, zone)).toBe(expected);
      expect(utcToZonedLocal(at(expected), zone)).toBe(shown);
    });
  });

  it('the times either side of a skipped hour stay where they are', () => {
    expect(utc('2026-03-29T01:59', 'Europe/Berlin')).toBe('2026-03-29T00:59:00.000Z');
    expect(utc('2026-03-29T03:00', 'Europe/Berlin')).toBe('2026-03-29T01:00:00.000Z');
    expect(utc('2026-03-08T01:59', 'America/New_York')).toBe('2026-03-08T06:59:00.000Z');
    expect(utc('2026-03-08T03:00', 'America/New_York')).toBe('2026-03-08T07:00:00.000Z');
  });

  describe('a time the clocks show twice (fall back) is the first time they show it', () => {
    it.each([
      // Berlin, 25 October 2026: 03:00 CEST becomes 02:00 CET (01:00 UTC), so 02:00–02:59 happen twice.
      ['2026-10-25T02:00', 'Europe/Berlin', '2026-10-25T00:00:00.000Z'],
      ['2026-10-25T02:30', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
      ['2026-10-25T02:59', 'Europe/Berlin', '2026-10-25T00:59:00.000Z'],
      // New York, 1 November 2026: 02:00 EDT becomes 01:00 EST (06:00 UTC), so 01:00–01:59 happen twice.
      ['2026-11-01T01:00', 'America/New_York', '2026-11-01T05:00:00.000Z'],
      ['2026-11-01T01:30', 'America/New_York', '2026-11-01T05:30:00.000Z'],
    ])('%s in %s is %s', (local, zone, expected) => {
      expect(utc(local, zone)).toBe(expected);
    });

    it('and the times either side of the repeated hour are unambiguous', () => {
      expect(utc('2026-10-25T01:59', 'Europe/Berlin')).toBe('2026-10-24T23:59:00.000Z');
      expect(utc('2026-10-25T03:00', 'Europe/Berlin')).toBe('2026-10-25T02:00:00.000Z');
      expect(utc('2026-11-01T00:59', 'America/New_York')).toBe('2026-11-01T04:59:00.000Z');
      expect(utc('2026-11-01T02:00', 'America/New_York')).toBe('2026-11-01T07:00:00.000Z');
    });
  });

  it.each([
    ['empty', ''],
    ['words', 'tomorrow'],
    ['a date only', '2026-12-01'],
    ['a space for the T', '2026-12-01 09:30'],
    ['an hour of one digit', '2026-12-01T9:30'],
    ['month 13', '2026-13-01T09:30'],
    ['30 February', '2026-02-30T09:30'],
    ['29 February of a common year', '2026-02-29T09:30'],
    ['31 April', '2026-04-31T10:00'],
    ['hour 24', '2026-12-01T24:00'],
    ['minute 60', '2026-12-01T09:60'],
    ['a UTC designator', '2026-12-01T09:30Z'],
    ['an offset', '2026-12-01T09:30+02:00'],
  ])('refuses %s (%j) instead of guessing', (_label, local) => {
    expect(() => zonedLocalToUtc(local, 'Europe/Berlin')).toThrow(RangeError);
  });

  it.each(['Mars/Olympus', '', 'Europe/Berlin '])('refuses an unknown zone %j', (zone) => {
    expect(() => zonedLocalToUtc('2026-12-01T09:30', zone)).toThrow(RangeError);
  });
});

describe("utcToZonedLocal (the form shows a saved send time back in the author's zone)", () => {
  it.each([
    ['2026-12-01T08:30:00.000Z', 'Europe/Berlin', '2026-12-01T09:30'],
    ['2026-07-01T13:30:45.500Z', 'America/New_York', '2026-07-01T09:30'],
    ['2026-12-31T23:30:00.000Z', 'Europe/Berlin', '2027-01-01T00:30'],
    ['2027-01-01T03:00:00.000Z', 'America/New_York', '2026-12-31T22:00'],
    ['2026-07-01T04:00:00.000Z', 'Asia/Kolkata', '2026-07-01T09:30'],
  ])('%s in %s shows as %s', (instant, zone, local) => {
    expect(utcToZonedLocal(at(instant), zone)).toBe(local);
  });

  it('refuses an unknown zone', () => {
    expect(() => utcToZonedLocal(at('2026-12-01T08:30:00Z'), 'Mars/Olympus')).toThrow(RangeError);
  });
});

describe('round trips across the clock changes of 2026', () => {
  const DAYS: [string, string][] = [
    ['Europe/Berlin', '2026-03-29'],
    ['Europe/Berlin', '2026-10-25'],
    ['America/New_York', '2026-03-08'],
    ['America/New_York', '2026-11-01'],
    ['Australia/Lord_Howe', '2026-10-04'],
    ['Australia/Lord_Howe', '2026-04-05'],
    ['America/Santiago', '2026-09-06'],
    ['America/Santiago', '2026-04-05'],
    ['Asia/Kolkata', '2026-03-29'],
  ];

  /** Every quarter hour from the day before to the day after, as instants. */
  const instantsAround = (day: string) =>
    Array.from({ length: 3 * 24 * 4 }, (_, i) => new Date(Date.parse(`${day}T00:00:00Z`) - 24 * HOUR + i * 15 * MINUTE));

  it.each(DAYS)('%s around %s: every instant shown on the clock converts back to itself, or to its first showing', (zone, day) => {
    const instants = instantsAround(day);
    const repeated = instants.filter((instant) => utc(utcToZonedLocal(instant, zone), zone) !== instant.toISOString());
    for (const instant of repeated) {
      // Only the second showing of a repeated wall-clock time may go elsewhere: to the first showing, earlier.
      const back = zonedLocalToUtc(utcToZonedLocal(instant, zone), zone);
      expect(back.getTime()).toBeLessThan(instant.getTime());
      expect(utcToZonedLocal(back, zone)).toBe(utcToZonedLocal(instant, zone));
    }
    // Zones with a fall-back that day repeat exactly the length of the change; others repeat nothing.
    const fallBack = zoneOffsetMs(instants[0]!, zone) - zoneOffsetMs(instants.at(-1)!, zone);
    expect(repeated).toHaveLength(Math.max(0, fallBack / (15 * MINUTE)));
  });

  it.each(DAYS)(
    '%s around %s: every wall-clock time converts to an instant the clock shows as that time, or later if skipped',
    (zone, day) => {
      const start = Date.parse(`${day}T00:00:00Z`) - 24 * HOUR;
      const locals = Array.from({ length: 3 * 24 * 4 }, (_, i) => new Date(start + i * 15 * MINUTE).toISOString().slice(0, 16));
      const skipped = locals.filter((local) => utcToZonedLocal(zonedLocalToUtc(local, zone), zone) !== local);
      for (const local of skipped) {
        expect(utcToZonedLocal(zonedLocalToUtc(local, zone), zone) > local).toBe(true);
      }
      const springForward = zoneOffsetMs(new Date(start + 3 * 24 * HOUR), zone) - zoneOffsetMs(new Date(start), zone);
      expect(skipped).toHaveLength(Math.max(0, springForward / (15 * MINUTE)));
    },
  );
});

describe('describeInZone', () => {
  it('gives the wall-clock time in the zone and names the zone, never GMT', () => {
    const instant = new Date('2026-11-30T13:00:00Z');
    expect(describeInZone(instant, 'Europe/Paris')).toBe('Mon 30 Nov 2026, 14:00 Europe/Paris');
    expect(describeInZone(instant, 'America/New_York')).toBe('Mon 30 Nov 2026, 08:00 America/New_York');
    // Across midnight the date is the zone's, not UTC's.
    expect(describeInZone(new Date('2026-07-01T00:05:00Z'), 'America/Los_Angeles')).toBe('Tue 30 Jun 2026, 17:05 America/Los_Angeles');
  });
});
