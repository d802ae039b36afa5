import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSuite } from '../../bench/suite.js';
import { testDb } from '../support/harness.js';

// Keeps `npm run bench` working: tiny sizes, and only counts are asserted, never times.
describe('the benchmark at smoke size', () => {
  it('delivers every message exactly once and nothing after a halt beyond its in-flight count', async () => {
    const writeDir = mkdtempSync(path.join(tmpdir(), 'countersign-bench-smoke-'));
    const result = await runSuite({ database: testDb(), messages: 50, recipients: 300, pools: [3], scalePool: 3, writeDir });

    expect(result.pools.map((p) => p.pool)).toEqual([3]);
    for (const { baseline, pipeline } of result.pools) {
      // Raw nodemailer runs before and after the pipeline: 50 messages each, every one arrived once.
      expect(baseline).toMatchObject({ messages: 100, arrivedOnce: true });
      expect(baseline.runs).toHaveLength(2);
      expect(pipeline).toMatchObject({ messages: 50, arrivedOnce: true });
      expect(pipeline.cpuMsPerMessage).toBeGreaterThan(0);
      // The sink's process did the work of every message in both runs.
      expect(baseline.machineCpu.sink).toBeGreaterThan(0);
      expect(pipeline.machineCpu.sink).toBeGreaterThan(0);
    }
    expect(result.fanOut).toMatchObject({ recipients: 300, arrivedOnce: true });
    expect(result.halt.arrivedOnce).toBe(true);
    expect(result.halt.arrivedAfterHalt).toBeLessThanOrEqual(result.halt.inFlight);
    expect(result.haltAtScale.arrivedOnce).toBe(true);
    expect(result.haltAtScale.arrivedAfterHalt).toBeLessThanOrEqual(result.haltAtScale.inFlight);
    expect(result.correction.audience).toBe(300);
  }, 120_000);
});
