import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { RedisRetryBudget } from '../../src/stores/redis/retry-budget.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { useSharedRedis } from './suite.js';

describe('RedisRetryBudget (shared by every process)', () => {
  let client: Redis;
  const prefix = useSharedRedis('rb', (connected) => {
    client = connected;
  });

  it('validates its options', () => {
    expect(() => new RedisRetryBudget({ redis: client, name: 'b', ratio: -1 })).toThrow(
      ConfigError,
    );
    expect(() => new RedisRetryBudget({ redis: client, name: 'b', windowMs: 5 })).toThrow(
      ConfigError,
    );
    expect(() => new RedisRetryBudget({ redis: client, name: 'b', typo: 1 } as never)).toThrow(
      ConfigError,
    );
  });

  it('allows retries up to ratio x calls (plus the floor) across all instances, then refuses', async () => {
    const clock = new VirtualClock({ wallStart: Date.UTC(2030, 5, 1) });
    const make = () =>
      new RedisRetryBudget({
        redis: client,
        prefix,
        name: 'api',
        ratio: 0.1,
        minRetriesPerSecond: 0.2,
        windowMs: 10_000,
        time: 'caller',
        clock,
      });
    const a = make();
    const b = make();
    for (let i = 0; i < 50; i++) await (i % 2 ? a : b).recordRequest();
    let granted = 0;
    for (let i = 0; i < 20; i++) if ((await (i % 2 ? a : b).tryRetry()).allowed) granted++;
    // 10% of 50 calls = 5 retries fleet-wide.
    expect(granted).toBe(5);
    expect(await a.peek()).toEqual({ allowed: true, calls: 50, retries: 5 });
    // The window slides: after it passes, the floor allows retries again with no calls.
    await clock.advance(11_000);
    expect((await a.tryRetry()).allowed).toBe(true);
    expect((await b.tryRetry()).allowed).toBe(true);
    expect((await b.tryRetry()).allowed).toBe(false);
    expect(await b.peek()).toMatchObject({ calls: 0, retries: 2 });
  });

  it('keeps one retry storm bounded: 3 nested layers of 3 attempts stay near 1.1 calls per request', async () => {
    const budget = new RedisRetryBudget({
      redis: client,
      prefix,
      name: 'storm',
      ratio: 0.1,
      minRetriesPerSecond: 0,
      windowMs: 60_000,
    });
    let calls = 0;
    const requests = 100;
    for (let r = 0; r < requests; r++) {
      await budget.recordRequest();
      // Innermost dependency always fails; every layer asks the budget before retrying.
      for (let layer = 0; layer < 3; layer++) {
        calls++;
        for (let attempt = 2; attempt <= 3; attempt++) {
          if (!(await budget.tryRetry()).allowed) break;
          calls++;
        }
      }
    }
    // Without the budget: 3 layers x 3 attempts each. With it: first attempts + 10% of requests.
    expect(calls / requests).toBeLessThanOrEqual(3.1);
    expect(calls).toBe(3 * requests + 10);
  });
});
