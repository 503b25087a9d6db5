import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeBuckets } from '../../src/policies/breaker-time-buckets.js';

describe('TimeBuckets (the breaker and adaptive sliding window)', () => {
  it('fast-check: sums equal a naive count of the events in the live buckets, across gaps of any length', () => {
    const step = fc.record({
      gapMs: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 50_000 })),
      a: fc.integer({ min: 0, max: 3 }),
      b: fc.integer({ min: 0, max: 3 }),
      c: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5_000 }),
        fc.integer({ min: -100_000, max: 100_000 }),
        fc.array(step, { maxLength: 100 }),
        (buckets, durationMs, start, steps) => {
          const window = new TimeBuckets(durationMs, buckets);
          const width = durationMs / buckets;
          const log: Array<{ bucket: number; a: number; b: number; c: number }> = [];
          let now = start;
          for (const s of steps) {
            now += s.gapMs;
            window.add(now, s.a, s.b, s.c);
            log.push({ bucket: Math.floor(now / width), a: s.a, b: s.b, c: s.c });
            const newest = Math.floor(now / width);
            const live = log.filter((e) => e.bucket > newest - buckets);
            expect(window.a).toBe(live.reduce((sum, e) => sum + e.a, 0));
            expect(window.b).toBe(live.reduce((sum, e) => sum + e.b, 0));
            expect(window.c).toBe(live.reduce((sum, e) => sum + e.c, 0));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('an idle gap longer than the window empties it; clear() empties it at once', () => {
    const window = new TimeBuckets(1_000, 10);
    window.add(0, 5, 4, 3);
    window.add(950, 1, 1, 1);
    expect([window.a, window.b, window.c]).toEqual([6, 5, 4]);
    window.advance(1_049);
    expect(window.a).toBe(1); // the bucket of t=0 left; the one of t=950 is still live
    window.advance(10_000_000);
    expect([window.a, window.b, window.c]).toEqual([0, 0, 0]);
    window.add(10_000_000, 2, 0, 0);
    window.clear();
    expect(window.a).toBe(0);
  });
});
