import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { adaptive, ThrottledError } from '../../src/policies/adaptive.js';
import { seededRandom } from '../../src/recovery/random.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const overloaded = () => {
  throw Object.assign(new Error('503 overloaded'), { status: 503 });
};
const missing = () => {
  throw Object.assign(new Error('404'), { status: 404 });
};

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

describe('adaptive throttling', () => {
  it('rejects with probability max(0, (requests − k·accepts)/(requests + 1)) over the window', async () => {
    const clock = new VirtualClock();
    const throttle = adaptive({ clock, k: 2, random: () => 0.999_999 }); // never below p: nothing rejected yet
    for (let i = 0; i < 5; i++) await throttle.execute(() => 'ok');
    for (let i = 0; i < 10; i++) await settle(throttle.execute(overloaded));
    expect(throttle.rejectProbability()).toBeCloseTo((15 - 2 * 5) / 16, 12);
    expect(throttle.stats()).toMatchObject({
      requests: 15,
      accepts: 5,
      successRate: 5 / 15,
      delayFactor: 3,
      rejections: 0,
    });
  });

  it('sheds most calls to a backend that refuses everything, and lets go when the window has passed', async () => {
    const clock = new VirtualClock();
    const throttle = adaptive({ clock, windowMs: 60_000, buckets: 6, random: seededRandom(42) });
    let reachedBackend = 0;
    const throttledEvents: number[] = [];
    let sample: unknown;
    throttle.events.on('throttled', (e) => throttledEvents.push(e.rejectProbability));
    for (let i = 0; i < 1_000; i++) {
      const error = await settle(
        throttle.execute(() => {
          reachedBackend++;
          overloaded();
        }),
      );
      expect(error).toBeInstanceOf(Error);
      if (error instanceof ThrottledError) sample = error;
    }
    // Without the throttle all 1,000 would have reached the backend.
    expect(reachedBackend).toBeLessThan(100);
    expect(throttle.stats().rejections).toBe(1_000 - reachedBackend);
    expect(throttledEvents).toHaveLength(1_000 - reachedBackend);
    expect(sample).toBeInstanceOf(ThrottledError);
    expect(sample).toMatchObject({ category: 'unavailable', retryable: true });
    expect(throttle.delayFactor()).toBe(10); // nothing succeeds: retries wait the longest

    await clock.advance(60_000);
    expect(throttle.rejectProbability()).toBe(0);
    expect(throttle.delayFactor()).toBe(1);
    await expect(throttle.execute(() => 'back')).resolves.toBe('back');
  });

  it('faults the backend answered (404, validation) count as accepted: no throttling', async () => {
    const throttle = adaptive({ clock: new VirtualClock(), random: () => 0 });
    for (let i = 0; i < 50; i++) await expect(throttle.execute(missing)).rejects.toThrow('404');
    expect(throttle.rejectProbability()).toBe(0);
    expect(throttle.stats()).toMatchObject({
      accepts: 50,
      rejections: 0,
      failuresByCategory: { permanent: 50 },
    });
  });

  it('delayFactor follows the recent success rate, capped', async () => {
    const clock = new VirtualClock();
    const throttle = adaptive({
      clock,
      random: () => 0.999_999,
      maxDelayFactor: 3,
      refusedCategories: ['unavailable'],
    });
    expect(throttle.delayFactor()).toBe(1);
    await throttle.execute(() => 1);
    await settle(throttle.execute(overloaded));
    expect(throttle.delayFactor()).toBe(2);
    for (let i = 0; i < 5; i++) await settle(throttle.execute(overloaded));
    expect(throttle.delayFactor()).toBe(3);
  });

  it('fast-check: the probability always matches the formula over the live window and stays in [0, 1)', async () => {
    const step = fc.record({ ok: fc.boolean(), gapMs: fc.integer({ min: 0, max: 5_000 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.array(step, { maxLength: 80 }),
        async (k, steps) => {
          const clock = new VirtualClock();
          const throttle = adaptive({
            clock,
            k,
            windowMs: 10_000,
            buckets: 10,
            random: () => 0.999_999_9,
          });
          const log: Array<{ at: number; accepted: boolean }> = [];
          for (const s of steps) {
            await clock.advance(s.gapMs);
            log.push({ at: clock.now(), accepted: s.ok });
            await settle(throttle.execute(s.ok ? () => 1 : overloaded));
            // The live window: buckets of 1 s, the current one and the 9 before it.
            const firstLive = (Math.floor(clock.now() / 1_000) - 9) * 1_000;
            const live = log.filter((e) => e.at >= firstLive);
            const requests = live.length;
            const accepts = live.filter((e) => e.accepted).length;
            const p = throttle.rejectProbability();
            expect(p).toBeCloseTo(Math.max(0, (requests - k * accepts) / (requests + 1)), 9);
            expect(p).toBeGreaterThanOrEqual(0);
            expect(p).toBeLessThan(1);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    [{ k: 0 }, /k: 0/],
    [{ windowMs: 0 }, /windowMs: 0/],
    [{ buckets: 2.5 }, /buckets: 2.5/],
    [{ refusedCategories: ['busy'] }, /refusedCategories\[0\]: "busy"/],
    [{ maxDelayFactor: 0.5 }, /maxDelayFactor: 0.5/],
    [{ K: 2 }, /Unknown option adaptive\.K: 2 \(did you mean adaptive\.k\?/],
  ])('%j is refused with a ConfigError', (options, message) => {
    expect(() => adaptive(options as never)).toThrow(ConfigError);
    expect(() => adaptive(options as never)).toThrow(message);
  });
});
