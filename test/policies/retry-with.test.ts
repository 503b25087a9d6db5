/**
 * `policy.with(options)`: a per-call override (the archive downloader's
 * `execute_with_retry(op, ctx, retry_config)`) that keeps the parent's events, stats and budget.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, constantBackoff, retry, retryBudget } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { networkError } from './helpers.js';

describe('retry.with', () => {
  it('derives a policy with other options; the parent is unchanged', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 5, backoff: constantBackoff(100) });
    const twice = policy.with({ maxAttempts: 2 });
    expect(twice.maxAttempts).toBe(2);
    expect(policy.maxAttempts).toBe(5);
    let calls = 0;
    const failing = () => {
      calls++;
      throw networkError();
    };
    const run = twice.execute(failing).catch((e: unknown) => e);
    await clock.runAll();
    expect(await run).toMatchObject({ name: 'RetriesExhaustedError', attempts: 2 });
    expect(calls).toBe(2);
  });

  it('shares the parent’s events and stats', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 5, backoff: constantBackoff(10) });
    const retries: number[] = [];
    policy.events.on('retry', (e) => retries.push(e.attempt));
    const derived = policy.with({ maxAttempts: 3 });
    const run = derived
      .execute(() => {
        throw networkError();
      })
      .catch(() => undefined);
    await clock.runAll();
    await run;
    await policy.execute(() => 'ok');
    expect(retries).toEqual([1, 2]);
    expect(policy.stats()).toMatchObject({ executions: 2, successes: 1, failures: 1, retries: 2 });
    expect(derived.stats()).toEqual(policy.stats());
  });

  it('keeps the shared retry budget: the derived policy spends the same budget', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0, minRetriesPerSecond: 0.3, windowMs: 10_000, clock });
    const policy = retry({ clock, maxAttempts: 5, backoff: constantBackoff(0), budget });
    const derived = policy.with({ maxAttempts: 4 });
    const run = derived
      .execute(() => {
        throw networkError();
      })
      .catch((e: unknown) => e);
    await clock.runAll();
    await run;
    // Three retries per 10 s window in all: the derived policy used them, so the parent gets none now.
    expect(budget.stats()).toMatchObject({ requests: 1, retries: 3 });
    let parentCalls = 0;
    await policy
      .execute(() => {
        parentCalls++;
        throw networkError();
      })
      .catch(() => undefined);
    expect(parentCalls).toBe(1);
    expect(budget.stats()).toMatchObject({ requests: 2, retries: 3, refused: 1 });
  });

  it('validates the overrides like retry() does', () => {
    const policy = retry();
    expect(() => policy.with({ maxAttempts: 0 })).toThrow(ConfigError);
    expect(() => policy.with({ maxAtempts: 2 } as never)).toThrow(/maxAtempts/);
  });
});
