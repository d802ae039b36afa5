import { describe, expect, it } from 'vitest';
import { decisionOutcome, VOID_REASONS, voidedBecause } from '../../src/domain/approval-wording.js';
import { describeDuration, describeHoldWindow } from '../../src/domain/durations.js';
import { livePollMs } from '../../src/domain/live-poll.js';
import { describeSendTime } from '../../src/domain/schedule.js';
import { bucketSecondsFor, describeBucket, MAX_BUCKETS } from '../../src/domain/timeline.js';

describe('durations', () => {
  it('says a short hold in seconds, not "0 minutes"', () => {
    expect(describeDuration(20)).toBe('20 seconds');
    expect(describeDuration(1)).toBe('1 second');
    expect(describeDuration(90)).toBe('1 minute 30 seconds');
    expect(describeDuration(600)).toBe('10 minutes');
    expect(describeDuration(5400)).toBe('1 hour 30 minutes');
    expect(describeDuration(7200)).toBe('2 hours');
  });

  it('a correction has no hold window, and a zero one is none', () => {
    expect(describeHoldWindow('policy', 20)).toBe('20 seconds after the last approval');
    expect(describeHoldWindow('policy', 0)).toBe('none: it goes as soon as it is approved');
    expect(describeHoldWindow('correction', 600)).toBe('none: a correction goes as soon as it is approved');
    expect(describeSendTime(null, 'UTC', 'correction')).toBe('as soon as it is approved');
  });
});

describe('approval wording', () => {
  it('one approval of two is not "approved"', () => {
    expect(decisionOutcome({ decision: 'approve', status: 'pending_approval', approved: 1, required: 2 })).toBe(
      'not approved yet: your approval is 1 of the 2 needed, so it waits for 1 more',
    );
    expect(decisionOutcome({ decision: 'approve', status: 'scheduled', approved: 2, required: 2 })).toMatch(/^approved and scheduled/);
    expect(decisionOutcome({ decision: 'approve', status: 'sending', approved: 2, required: 2 })).toBe('approved and sending');
    expect(decisionOutcome({ decision: 'reject', status: 'draft', approved: 0, required: 2 })).toBe(
      'rejected; the author has it back as a draft',
    );
  });

  it('a voided decision says why: a halt is not "a later change"', () => {
    expect(voidedBecause('halted')).toBe('voided by the halt: only a fresh approval resumes it');
    expect(VOID_REASONS.map(voidedBecause).every((text) => text.startsWith('voided') && !text.includes('later change'))).toBe(true);
    expect(voidedBecause(null)).toBe('voided');
  });
});

describe('the chart buckets', () => {
  it('picks the narrowest round bucket that fits the send in the bars', () => {
    expect(bucketSecondsFor(0)).toBe(1);
    expect(bucketSecondsFor(59)).toBe(1);
    expect(bucketSecondsFor(60)).toBe(2);
    expect(bucketSecondsFor(45 * 60)).toBe(60);
    expect(bucketSecondsFor(3 * 3600)).toBe(300);
    // However the span falls on the clock's bucket boundaries, it touches no more than MAX_BUCKETS of them.
    for (const span of [0, 7, 59.5, 61, 600, 3599, 86_400, 10 * 86_400]) {
      const bucket = bucketSecondsFor(span);
      for (const offset of [0, 0.5, bucket - 0.25])
        expect(Math.floor((offset + span) / bucket) - Math.floor(offset / bucket) + 1).toBeLessThanOrEqual(MAX_BUCKETS);
    }
  });

  it('names the bucket', () => {
    expect(describeBucket(1)).toBe('per second');
    expect(describeBucket(5)).toBe('per 5 seconds');
    expect(describeBucket(60)).toBe('per minute');
    expect(describeBucket(900)).toBe('per 15 minutes');
    expect(describeBucket(3600)).toBe('per hour');
  });
});

describe('how often an open campaign page asks again', () => {
  it('every second while something can happen any moment, rarely for drafts and halted campaigns, never when done', () => {
    expect(livePollMs('pending_approval', 0, 0)).toBe(1000);
    expect(livePollMs('scheduled', 0, 0)).toBe(1000);
    expect(livePollMs('sending', 3, 20_000)).toBe(1000);
    expect(livePollMs('halted', 1, 100)).toBe(1000);
    expect(livePollMs('halted', 0, 100)).toBe(5000);
    expect(livePollMs('draft', 0, 0)).toBe(5000);
    expect(livePollMs('sent', 0, 100)).toBeNull();
    expect(livePollMs('cancelled', 0, 0)).toBeNull();
  });

  it('a large ledger is polled less often', () => {
    expect(livePollMs('sending', 5, 50_000)).toBe(2000);
    expect(livePollMs('sending', 5, 200_000)).toBe(8000);
    expect(livePollMs('sending', 5, 2_000_000)).toBe(10_000);
  });
});
