import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { retry } from '../../src/policies/retry.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { SharedRetryBudget } from '../../src/stores/redis/shared-retry-budget.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { useSharedRedis } from './suite.js';

describe('SharedRetryBudget (a RetryBudget for retry policies, counted across processes)', () => {
  let client: Redis;
  const prefix = useSharedRedis('srb', (connected) => {
    client = connected;
  });

  it('validates options like the in-process budget, plus its own', () => {
    expect(() => new SharedRetryBudget({ redis: client, name: 'x', ratio: 2 })).toThrow(
      ConfigError,
    );
    expect(() => new SharedRetryBudget({ redis: client, name: '' })).toThrow(ConfigError);
    expect(() => new SharedRetryBudget({ redis: client, name: 'x', syncEveryMs: 0 })).toThrow(
      ConfigError,
    );
  });

  it('decides from the fleet totals: one process cannot spend the retries another earned twice', async () => {
    const clock = new VirtualClock({ wallStart: Date.UTC(2030, 2, 1) });
    const make = () =>
      new SharedRetryBudget({
        redis: client,
        prefix,
        name: 'api',
        ratio: 0.1,
        minRetriesPerSecond: 0,
        clock,
        syncEveryMs: 100,
      });
    const a = make();
    const b = make();
    for (let i = 0; i < 50; i++) a.recordRequest();
    for (let i = 0; i < 50; i++) b.recordRequest();
    await a.flush();
    await b.flush();
    await a.flush();
    // The fleet made 100 requests: 10 retries in all, whoever asks.
    let grantedA = 0;
    while (a.tryRetry()) grantedA++;
    expect(grantedA).toBe(10);
    await a.flush();
    await b.flush();
    expect(b.tryRetry()).toBe(false);
    expect(b.stats()).toMatchObject({ requests: 100, retries: 10 });
    await a.close();
    await b.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('plugs into retry({ budget }) and stops a retry storm', async () => {
    const budget = new SharedRetryBudget({
      redis: client,
      prefix,
      name: 'storm',
      ratio: 0.1,
      minRetriesPerSecond: 0,
    });
    const policy = retry({ maxAttempts: 3, backoff: constantBackoff(0), budget });
    expect(policy.describe()).toContain('shared');
    let calls = 0;
    for (let r = 0; r < 50; r++) {
      await policy
        .execute(() => {
          calls++;
          throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
        })
        .catch(() => undefined);
    }
    // Without a budget 150 calls; with it, 50 first attempts + 10% of them as retries.
    expect(calls).toBeLessThanOrEqual(55);
    await budget.close();
  });
});
