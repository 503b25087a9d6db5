import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, RateLimitedError } from '../../src/faults/errors.js';
import { rateLimiter } from '../../src/policies/rate-limiter.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

async function outcome(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

describe('rateLimiter: reject mode', () => {
  it('admits the burst at once, then one per 1/rate, and says when the next token comes', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimiter({ clock, rate: 4, burst: 2, mode: 'reject', name: 'api' });
    const rejected: unknown[] = [];
    limiter.events.on('rejected', (e) => rejected.push(e));
    await limiter.execute(() => 1);
    await limiter.execute(() => 2);
    const refused = await outcome(limiter.execute(() => 3, { operation: 'list' }));
    expect(refused).toBeInstanceOf(RateLimitedError);
    expect((refused as RateLimitedError).retryAfterMs).toBe(250);
    expect(refused).toMatchObject({ category: 'rate_limit', operation: { name: 'list' } });
    expect(rejected).toEqual([{ limiter: 'api', retryAfterMs: 250, operation: { name: 'list' } }]);
    await clock.advance(100);
    expect(((await outcome(limiter.execute(() => 3))) as RateLimitedError).retryAfterMs).toBe(150);
    await clock.advance(150);
    await expect(limiter.execute(() => 3)).resolves.toBe(3);
    await clock.advance(10_000); // refills to the burst, no further
    await limiter.execute(() => 4);
    await limiter.execute(() => 5);
    expect(await outcome(limiter.execute(() => 6))).toBeInstanceOf(RateLimitedError);
    expect(limiter.stats()).toMatchObject({
      executions: 8,
      successes: 5,
      rejections: 3,
      queued: 0,
    });
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('rateLimiter: wait mode', () => {
  it('queues callers in FIFO order and lets each through when its token is due', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimiter({ clock, rate: 10, burst: 1 });
    const started: Array<[number, number]> = [];
    const calls = [1, 2, 3, 4].map((id) => limiter.execute(() => started.push([id, clock.now()])));
    expect(limiter.stats().queued).toBe(3);
    await clock.runAll();
    await Promise.all(calls);
    expect(started).toEqual([
      [1, 0],
      [2, 100],
      [3, 200],
      [4, 300],
    ]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a waiting caller can abort; the others keep their turn; the last abort clears the timer and listeners', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimiter({ clock, rate: 1, burst: 1 });
    await limiter.execute(() => 0);
    const a = new AbortController();
    const b = new AbortController();
    const started: number[] = [];
    const first = limiter.execute(() => started.push(1), { signal: a.signal });
    const second = limiter.execute(() => started.push(2), { signal: b.signal });
    a.abort(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    expect(getEventListeners(a.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(1_000);
    await second;
    expect(started).toEqual([2]);
    expect(getEventListeners(b.signal, 'abort')).toHaveLength(0);

    const c = new AbortController();
    const third = limiter.execute(() => started.push(3), { signal: c.signal });
    expect(clock.pendingTimers).toBe(1);
    c.abort(new Error('bye'));
    await expect(third).rejects.toThrow('bye');
    expect(clock.pendingTimers).toBe(0); // nobody waits: nothing pending
  });

  it('maxWaitMs refuses a caller whose turn is too far away', async () => {
    const clock = new VirtualClock();
    const limiter = rateLimiter({ clock, rate: 2, burst: 1, maxWaitMs: 600 });
    await limiter.execute(() => 0);
    const queued = limiter.execute(() => 1); // due at 500 ms
    const refused = await outcome(limiter.execute(() => 2)); // due at 1000 ms
    expect((refused as RateLimitedError).retryAfterMs).toBe(1_000);
    await clock.runAll();
    await expect(queued).resolves.toBe(1);
  });

  it.each([
    [{ rate: 0 }, /rate: 0/],
    [{ rate: 5, burst: 0.5 }, /burst: 0.5/],
    [{ rate: 5, mode: 'queue' }, /mode: "queue"/],
    [{ rate: 5, maxWaitMs: -1 }, /maxWaitMs: -1/],
    [
      { rate: 5, brust: 3 },
      /Unknown option rateLimiter\.brust: 3 \(did you mean rateLimiter\.burst\?/,
    ],
  ])('%j is refused with a ConfigError', (options, message) => {
    expect(() => rateLimiter(options as never)).toThrow(ConfigError);
    expect(() => rateLimiter(options as never)).toThrow(message);
  });
});

describe('rateLimiter: resolutionTokens', () => {
  /** Admits calls at the current time until one is refused; returns how many got through. */
  async function drain(limiter: ReturnType<typeof rateLimiter>): Promise<number> {
    let admitted = 0;
    while ((await outcome(limiter.execute(() => admitted++))) === admitted - 1);
    return admitted;
  }

  it('by default reads the clock once per 1 % of the burst while tokens last', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const now = (): number => {
      reads++;
      return clock.now();
    };
    const counting = Object.assign(Object.create(clock) as VirtualClock, { now });
    const limiter = rateLimiter({ clock: counting, rate: 1_000, burst: 1_000, mode: 'reject' });
    reads = 0;
    for (let i = 0; i < 500; i++) await limiter.execute(() => i);
    expect(reads).toBe(Math.ceil(500 / 11)); // one reading, then 10 calls on it
    expect(await drain(limiter)).toBe(500); // at the same instant nothing is lost
  });

  it('a bucket that filled up between readings is credited at most resolutionTokens less, never more', async () => {
    const clock = new VirtualClock();
    const exact = rateLimiter({ clock, rate: 1, burst: 100, mode: 'reject', resolutionTokens: 0 });
    const coarse = rateLimiter({ clock, rate: 1, burst: 100, mode: 'reject', resolutionTokens: 3 });
    for (const limiter of [exact, coarse])
      for (let i = 0; i < 4; i++) await limiter.execute(() => i);
    await clock.advance(60_000); // both buckets are full again
    expect(await drain(exact)).toBe(100);
    expect(await drain(coarse)).toBe(97); // the 3 unread tokens are counted as taken just now
    await clock.advance(10_000);
    expect(await drain(exact)).toBe(10);
    expect(await drain(coarse)).toBe(10); // below full nothing is lost
  });

  it('is validated', () => {
    expect(() => rateLimiter({ rate: 1, resolutionTokens: -1 })).toThrow(/resolutionTokens: -1/);
    expect(() => rateLimiter({ rate: 1, resolutionTokens: 1.5 })).toThrow(ConfigError);
  });
});

describe('rateLimiter: fast-check', () => {
  it('never admits more than burst + rate × t in any interval, in either mode, with aborts', async () => {
    const arrival = fc.record({
      gapMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 })),
      abortAfter: fc.option(fc.integer({ min: 0, max: 500 }), { freq: 4 }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 5 }),
        fc.constantFrom('wait' as const, 'reject' as const),
        fc.array(arrival, { maxLength: 60 }),
        fc.integer({ min: 0, max: 4 }),
        async (rate, burst, mode, arrivals, resolutionTokens) => {
          const clock = new VirtualClock();
          const limiter = rateLimiter({ clock, rate, burst, mode, resolutionTokens });
          const admitted: number[] = [];
          const calls: Promise<unknown>[] = [];
          for (const a of arrivals) {
            await clock.advance(a.gapMs);
            const controller = new AbortController();
            if (a.abortAfter !== null) clock.schedule(a.abortAfter, () => controller.abort());
            calls.push(
              limiter
                .execute(() => admitted.push(clock.now()), { signal: controller.signal })
                .catch(() => undefined),
            );
          }
          await clock.runAll();
          await Promise.all(calls);
          for (let i = 0; i < admitted.length; i++) {
            for (let j = i; j < admitted.length; j++) {
              const window = admitted[j]! - admitted[i]!;
              expect(j - i + 1).toBeLessThanOrEqual(burst + (rate * window) / 1000 + 1e-6);
            }
          }
          expect(limiter.stats().queued).toBe(0);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('with resolutionTokens K, its level is never above that of an exact bucket fed the same admissions, and at most K below', async () => {
    const step = fc.record({ gapMs: fc.integer({ min: 0, max: 3_000 }), look: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 0, max: 5 }),
        fc.array(step, { maxLength: 80 }),
        async (rate, burst, resolutionTokens, steps) => {
          const clock = new VirtualClock();
          const limiter = rateLimiter({ clock, rate, burst, mode: 'reject', resolutionTokens });
          // The exact bucket, replaying the admissions the limiter made.
          let level = burst;
          let refilledAt = 0;
          for (const { gapMs, look } of steps) {
            await clock.advance(gapMs);
            const admitted = await limiter.execute(() => true).catch(() => false);
            level = Math.min(burst, level + ((clock.now() - refilledAt) * rate) / 1000);
            refilledAt = clock.now();
            if (admitted) level -= 1;
            expect(level).toBeGreaterThanOrEqual(-1e-9); // never admitted without a token
            if (look) {
              const tokens = limiter.stats().tokens;
              expect(tokens).toBeLessThanOrEqual(level + 1e-9);
              expect(tokens).toBeGreaterThanOrEqual(level - resolutionTokens - 1e-9);
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
