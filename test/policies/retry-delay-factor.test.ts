import { describe, expect, it } from 'vitest';
import {
  adaptive,
  ConfigError,
  constantBackoff,
  recoveryPlan,
  retry,
  type RetryEvents,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { httpError, networkError } from './helpers.js';

/** Runs `policy` over a call failing once with `error`, and returns the delay it waited. */
async function delayAfter(
  clock: VirtualClock,
  policy: ReturnType<typeof retry>,
  error: Error,
): Promise<number> {
  const delays: RetryEvents['retry'][] = [];
  policy.events.on('retry', (e) => delays.push(e));
  const at: number[] = [];
  const call = policy.execute(() => {
    at.push(clock.now());
    if (at.length === 1) throw error;
    return 'ok';
  });
  await clock.runAll();
  await expect(call).resolves.toBe('ok');
  expect(at[1]! - at[0]!).toBe(delays[0]!.delayMs);
  return delays[0]!.delayMs;
}

describe('retry delayFactor', () => {
  it('stretches the backoff by an adaptive throttle’s delay factor as the dependency degrades', async () => {
    const clock = new VirtualClock();
    const throttle = adaptive({ clock, random: () => 0.999_999 });
    const policy = retry({
      clock,
      maxAttempts: 2,
      backoff: constantBackoff(100),
      delayFactor: throttle,
    });
    expect(await delayAfter(clock, policy, networkError())).toBe(100); // nothing seen yet: factor 1

    await throttle.execute(() => 'ok');
    for (let i = 0; i < 3; i++)
      await throttle.execute(() => Promise.reject(httpError(503))).catch(() => {});
    expect(throttle.delayFactor()).toBe(4); // 1 success in 4 requests
    expect(await delayAfter(clock, policy, networkError())).toBe(400);
  });

  it('scales the plan’s backoff too, when the retry has none of its own', async () => {
    const clock = new VirtualClock();
    const plan = recoveryPlan({
      rules: { network: { action: 'retry', maxAttempts: 3, backoff: constantBackoff(100) } },
    });
    const policy = retry({ clock, plan, delayFactor: () => 3 });
    expect(await delayAfter(clock, policy, networkError())).toBe(300);
  });

  it('never scales a server’s Retry-After: the wait is the longer of the two', async () => {
    const clock = new VirtualClock();
    const policy = retry({
      clock,
      maxAttempts: 2,
      backoff: constantBackoff(100),
      delayFactor: () => 5,
    });
    expect(await delayAfter(clock, policy, httpError(429, { 'retry-after': '2' }))).toBe(2000);
  });

  it('reads the factor only when it retries, and treats nonsense as 1', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const policy = retry({
      clock,
      maxAttempts: 2,
      backoff: constantBackoff(100),
      delayFactor: () => {
        reads++;
        return Number.NaN;
      },
    });
    await policy.execute(() => 'quick');
    expect(reads).toBe(0);
    expect(await delayAfter(clock, policy, networkError())).toBe(100);
    expect(reads).toBe(1);
  });

  it('refuses a delayFactor that is neither a throttle nor a function', () => {
    for (const delayFactor of [2, 'x', {}, null]) {
      expect(() => retry({ delayFactor: delayFactor as never })).toThrow(ConfigError);
    }
  });
});
