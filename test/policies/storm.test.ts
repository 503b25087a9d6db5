import { describe, expect, it } from 'vitest';
import {
  constantBackoff,
  type ExecuteContext,
  hedge,
  pipeline,
  retry,
  type RetryBudget,
  retryBudget,
  timeout,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { httpError } from './helpers.js';

/**
 * Three services in a chain, each retrying its callee 3 times, in front of a dependency that
 * always fails. Between layers the failure crosses a boundary as a plain 503, as it would
 * over HTTP, so each layer retries what the one below gave up on.
 */
function chain(clock: VirtualClock, budget: RetryBudget | undefined) {
  const layer = () =>
    retry({ clock, maxAttempts: 3, backoff: constantBackoff(0), ...(budget ? { budget } : {}) });
  const [outer, middle, inner] = [layer(), layer(), layer()];
  let dependencyCalls = 0;
  const dependency = () => {
    dependencyCalls++;
    throw httpError(503);
  };
  const as503 = () => {
    throw httpError(503);
  };
  const request = () =>
    outer.execute((c1: ExecuteContext) =>
      middle
        .execute((c2: ExecuteContext) => inner.execute(dependency, { context: c2 }).catch(as503), {
          context: c1,
        })
        .catch(as503),
    );
  return { request, calls: () => dependencyCalls };
}

describe('retry storm', () => {
  it('three nested layers of 3 attempts make 27 dependency calls per request without a budget', async () => {
    const clock = new VirtualClock();
    const { request, calls } = chain(clock, undefined);
    for (let i = 0; i < 10; i++) await request().catch(() => {});
    expect(calls()).toBe(270);
  });

  it('one shared 10% budget keeps it at or below 1.2 dependency calls per request', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0.1, minRetriesPerSecond: 1, windowMs: 10_000, clock });
    const { request, calls } = chain(clock, budget);
    const requests = 5000;
    for (let i = 0; i < requests; i++) {
      await request().catch(() => {});
      await clock.advance(10); // 100 requests per second
    }
    const perRequest = calls() / requests;
    expect(perRequest).toBeGreaterThan(1);
    expect(perRequest).toBeLessThanOrEqual(1.2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('nested layers sharing a budget count one request per call, through timeouts and hedges in between', async () => {
    const clock = new VirtualClock();
    const budget = retryBudget({ ratio: 0.1, clock });
    const layered = pipeline(
      retry({ clock, budget, maxAttempts: 3 }),
      timeout({ timeoutMs: 1000, clock }),
      hedge({ delayMs: 500, clock }),
      retry({ clock, budget, maxAttempts: 3 }),
    );
    for (let i = 0; i < 20; i++) await layered.execute((ctx) => ctx.attempt);
    expect(budget.stats().requests).toBe(20);
    // A different budget in the inner layer counts its own requests.
    const other = retryBudget({ clock });
    await pipeline(
      retry({ clock, budget }),
      timeout({ timeoutMs: 1000, clock }),
      retry({ clock, budget: other }),
    ).execute(() => 1);
    expect(budget.stats().requests).toBe(21);
    expect(other.stats().requests).toBe(1);
    await clock.advance(2000);
    expect(clock.pendingTimers).toBe(0);
  });
});
