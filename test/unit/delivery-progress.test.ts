import { describe, expect, it } from 'vitest';
import { noDeliveries } from '../../src/domain/delivery.js';
import { deliveryBreakdown } from '../../src/domain/delivery-progress.js';

const segmentCounts = (b: ReturnType<typeof deliveryBreakdown>) => Object.fromEntries(b.segments.map((s) => [s.key, s.count]));

describe('deliveryBreakdown', () => {
  it('a halted campaign shows what was stopped apart from what was sent, never as done', () => {
    const breakdown = deliveryBreakdown({ ...noDeliveries(), sent: 2790, halted: 200 }, 3000, 'halted');
    // The 10 the fan-out never copied are stopped too.
    expect(segmentCounts(breakdown)).toEqual({ sent: 2790, failed: 0, unknown: 0, stopped: 210, skipped: 0, inFlight: 0, waiting: 0 });
    expect(breakdown.percentSent).toBe(93);
    expect(breakdown.segments.find((s) => s.key === 'stopped')!.percent).toBe(7);
    expect(breakdown.summary).toBe('Halted: 2,790 of 3,000 sent; 210 stopped by the halt.');
  });

  it('while sending: in flight and waiting are their own parts, uncopied recipients wait', () => {
    const breakdown = deliveryBreakdown({ ...noDeliveries(), sent: 1000, failed: 4, sending: 12, queued: 984 }, 3000, 'sending');
    expect(segmentCounts(breakdown)).toMatchObject({ sent: 1000, failed: 4, inFlight: 12, waiting: 1984, stopped: 0 });
    expect(breakdown.percentSent).toBe(33);
    expect(breakdown.summary).toBe('1,000 of 3,000 sent so far; 4 failed, 12 in flight, 1,984 waiting.');
  });

  it('before the send: nothing sent yet, everyone waiting', () => {
    const breakdown = deliveryBreakdown(noDeliveries(), 120, 'scheduled');
    expect(segmentCounts(breakdown)).toMatchObject({ waiting: 120, sent: 0 });
    expect(breakdown.summary).toBe('Nothing sent yet: 120 waiting.');
    expect(deliveryBreakdown(noDeliveries(), 0, 'draft').summary).toBe(
      'No recipients yet: the audience is frozen when the campaign is submitted.',
    );
  });

  it('sent: failures, unknowns and suppressed recipients stay visible', () => {
    const breakdown = deliveryBreakdown({ ...noDeliveries(), sent: 95, failed: 2, unknown: 1, skipped: 2 }, 100, 'sent');
    expect(breakdown.percentSent).toBe(95);
    expect(breakdown.summary).toBe('95 of 100 sent; 2 failed, 1 unknown (may have arrived), 2 skipped (suppressed).');
    expect(deliveryBreakdown({ ...noDeliveries(), sent: 12 }, 12, 'sent').summary).toBe('12 of 12 sent.');
  });

  it("a correction's late joiners widen its audience instead of passing 100%", () => {
    const breakdown = deliveryBreakdown({ ...noDeliveries(), sent: 12 }, 10, 'sent');
    expect(breakdown.total).toBe(12);
    expect(breakdown.percentSent).toBe(100);
  });
});
