import { describe, expect, it } from 'vitest';
import { describeSendTime, effectiveSendAt, holdWindowMs, SEND_AT_GRACE_MS, sendAtProblem } from '../../src/domain/schedule.js';

const QUORUM = new Date('2030-01-02T09:00:00.000Z');
const HOUR = 3_600_000;
const HOLD = 15 * 60_000;

describe('effectiveSendAt = max(sendAt, quorumReachedAt + hold)', () => {
  it('a send time after the hold window is kept', () => {
    const sendAt = new Date('2030-01-02T12:00:00.000Z');
    expect(effectiveSendAt(sendAt, QUORUM, HOLD).toISOString()).toBe('2030-01-02T12:00:00.000Z');
  });

  it('a send time inside the hold window is pushed to its end', () => {
    const sendAt = new Date('2030-01-02T09:05:00.000Z');
    expect(effectiveSendAt(sendAt, QUORUM, HOLD).toISOString()).toBe('2030-01-02T09:15:00.000Z');
  });

  it('a send time already in the past when quorum arrives waits for the hold window', () => {
    const sendAt = new Date('2030-01-01T00:00:00.000Z');
    expect(effectiveSendAt(sendAt, QUORUM, HOLD).toISOString()).toBe('2030-01-02T09:15:00.000Z');
  });

  it('no send time means as soon as the hold window ends', () => {
    expect(effectiveSendAt(null, QUORUM, HOLD).toISOString()).toBe('2030-01-02T09:15:00.000Z');
  });

  it('a send time exactly at the end of the hold window is that time', () => {
    const sendAt = new Date(QUORUM.getTime() + HOLD);
    expect(effectiveSendAt(sendAt, QUORUM, HOLD).getTime()).toBe(sendAt.getTime());
  });

  it('one millisecond either side of the hold end', () => {
    const holdEnd = QUORUM.getTime() + HOLD;
    expect(effectiveSendAt(new Date(holdEnd - 1), QUORUM, HOLD).getTime()).toBe(holdEnd);
    expect(effectiveSendAt(new Date(holdEnd + 1), QUORUM, HOLD).getTime()).toBe(holdEnd + 1);
  });

  it('with no hold window: the send time, or the moment of quorum if that is later', () => {
    expect(effectiveSendAt(null, QUORUM, 0).getTime()).toBe(QUORUM.getTime());
    expect(effectiveSendAt(new Date(QUORUM.getTime() - HOUR), QUORUM, 0).getTime()).toBe(QUORUM.getTime());
    expect(effectiveSendAt(new Date(QUORUM.getTime() + HOUR), QUORUM, 0).getTime()).toBe(QUORUM.getTime() + HOUR);
  });

  it('matches max(sendAt, quorum + hold) over a grid of cases', () => {
    for (const offset of [-2 * HOUR, -HOLD, 0, HOLD - 1, HOLD, HOLD + 1, 2 * HOUR]) {
      for (const hold of [0, 1000, HOLD, HOUR]) {
        const sendAt = new Date(QUORUM.getTime() + offset);
        const expected = Math.max(sendAt.getTime(), QUORUM.getTime() + hold);
        expect(effectiveSendAt(sendAt, QUORUM, hold).getTime()).toBe(expected);
      }
    }
  });

  it('returns a new Date, never one of its arguments', () => {
    const sendAt = new Date(QUORUM.getTime() + HOUR);
    const result = effectiveSendAt(sendAt, QUORUM, HOLD);
    expect(result).not.toBe(sendAt);
    expect(result).not.toBe(QUORUM);
    expect(result).toBeInstanceOf(Date);
  });
});

describe('holdWindowMs', () => {
  it('a policy campaign waits the configured seconds', () => {
    expect(holdWindowMs('policy', 900)).toBe(900_000);
    expect(holdWindowMs('policy', 0)).toBe(0);
  });

  it('a correction has no cooling-off', () => {
    expect(holdWindowMs('correction', 900)).toBe(0);
    expect(holdWindowMs('correction', 900, 60)).toBe(0);
  });

  it("a sensitive list's longer hold wins over the configured one, never a shorter one", () => {
    expect(holdWindowMs('policy', 600, 60)).toBe(3_600_000);
    expect(holdWindowMs('policy', 600, 5)).toBe(600_000);
  });
});

describe('describeSendTime', () => {
  it("names a requested time in the organisation's zone, and names the zone", () => {
    expect(describeSendTime(new Date('2030-01-02T12:00:00.000Z'), 'UTC')).toBe('Wed 2 Jan 2030, 12:00 UTC');
    expect(describeSendTime(new Date('2030-07-02T12:00:00.000Z'), 'Europe/Paris')).toBe('Tue 2 Jul 2030, 14:00 Europe/Paris');
  });

  it('says it goes once approved when no time was asked for', () => {
    expect(describeSendTime(null, 'Europe/Paris')).toBe('as soon as it is approved (after the hold window)');
  });
});

describe('sendAtProblem: a requested send time may not lie in the past', () => {
  const now = new Date('2030-01-02T09:00:00.000Z');
  it('refuses a time long gone, naming it', () => {
    expect(sendAtProblem(new Date('2020-01-01T00:00:00.000Z'), now)).toMatch(/2020-01-01T00:00:00.000Z is in the past/);
  });
  it('accepts the future, and a time just behind within the grace', () => {
    expect(sendAtProblem(new Date(now.getTime() + HOUR), now)).toBeNull();
    expect(sendAtProblem(new Date(now.getTime() - SEND_AT_GRACE_MS), now)).toBeNull();
    expect(sendAtProblem(new Date(now.getTime() - SEND_AT_GRACE_MS - 1), now)).not.toBeNull();
  });
});
