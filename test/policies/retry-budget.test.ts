import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError, constantBackoff, retry, retryBudget } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { networkError } from './helpers.js';

describe('retryBudget', () => {
  it('allows retries up to ratio × requests plus the per-second floor over the window', () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000, clock });
    for (let i = 0; i < 100; i++) budget.recordRequest();
    // 0.1 × 100 + 1/s × 10 s = 20
    let granted = 0;
    while (budget.tryRetry()) granted++;
    expect(granted).toBe(20);
    expect(budget.stats()).toEqual({ requests: 100, retries: 20, allowed: 20, refused: 1 });
  });

  it('forgets traffic that fell out of the window, with no timer', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({
      ratio: 0.5,
      minRetriesPerSecond: 0,
      windowMs: 1000,
      buckets: 10,
      clock,
    });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(1000);
    expect(budget.stats()).toMatchObject({ requests: 0, retries: 0 });
    expect(budget.tryRetry()).toBe(false);
    await clock.advance(50_000);
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  it('property: retries granted in any window never exceed ratio × requests + floor', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 400 }),
            requests: fc.integer({ min: 0, max: 20 }),
            retries: fc.integer({ min: 0, max: 20 }),
          }),
          {
            maxLength: 60,
          },
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (steps, ratio) => {
          let now = 0;
          const clock = {
            now: () => now,
            wallTime: () => now,
            sleep: async () => {},
            schedule: () => () => {},
          };
          const windowMs = 1000;
          const budget = retryBudget({
            ratio,
            minRetriesPerSecond: 2,
            windowMs,
            buckets: 10,
            clock,
          });
          const log: { at: number; kind: 'request' | 'retry' }[] = [];
          for (const step of steps) {
            now += step.gap;
            for (let i = 0; i < step.requests; i++) {
              budget.recordRequest();
              log.push({ at: now, kind: 'request' });
            }
            for (let i = 0; i < step.retries; i++) {
              if (!budget.tryRetry()) continue;
              log.push({ at: now, kind: 'retry' });
              // At the moment of a grant: the budget counts whole buckets, so its window is between
              // windowMs − bucket and windowMs + bucket long; retries over the shorter span can never
              // exceed what the requests over the longer span allow.
              const retries = log.filter(
                (e) => e.kind === 'retry' && e.at > now - (windowMs - 100),
              ).length;
              const requests = log.filter(
                (e) => e.kind === 'request' && e.at > now - windowMs - 100,
              ).length;
              expect(retries).toBeLessThanOrEqual(ratio * requests + 2 + 1e-9);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fails fast with the original error when spent', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0, minRetriesPerSecond: 0, clock });
    const policy = retry({ clock, budget, maxAttempts: 5, backoff: constantBackoff(10) });
    const original = networkError();
    let calls = 0;
    const outcome = await policy
      .execute(() => {
        calls++;
        throw original;
      })
      .catch((e: unknown) => e);
    expect(outcome).toBe(original);
    expect(calls).toBe(1);
    expect(policy.stats().rejections).toBe(1);
    expect(budget.stats().refused).toBe(1);
  });

  it('validates its options', () => {
    for (const options of [
      { ratio: 1.5 },
      { ratio: -0.1 },
      { minRetriesPerSecond: -1 },
      { windowMs: 0 },
      { buckets: 0 },
      { buckets: 2.5 },
      { buckets: 5000 },
      { clock: 1 },
      { rate: 0.1 },
    ]) {
      expect(() => retryBudget(options as never), JSON.stringify(options)).toThrow(ConfigError);
    }
    expect(retryBudget().describe()).toBe('retryBudget(10% of requests + 1/s over 10000 ms)');
  });
});
