import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { adaptive } from '../../src/policies/adaptive.js';
import { bulkhead } from '../../src/policies/bulkhead.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { rateLimiter } from '../../src/policies/rate-limiter.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * 100,000 executions through bulkhead, rate limiter, breaker and adaptive throttle on one
 * long-lived caller signal, mixing successes, failures, waits that time out (aborted by a
 * per-call signal) and calls refused: afterwards nothing is pending and the caller's signal
 * carries no listener.
 */
describe('bulkhead, rate limiter, breaker, adaptive: no leaks', () => {
  it('leaves no timer and no abort listener after 100,000 mixed executions', async () => {
    const clock = new VirtualClock();
    const shared = new AbortController(); // the long-lived caller signal (a worker's, a server's)
    const b = bulkhead({ maxConcurrent: 4, maxQueued: 8 });
    const limiter = rateLimiter({ clock, rate: 50_000, burst: 50 });
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'countWindow', size: 50, failureRate: 0.9 },
      halfOpenAfter: 5,
    });
    const throttle = adaptive({ clock, random: () => 0.5 });
    const failure = Object.assign(new Error('reset'), { code: 'ECONNRESET' });
    let settled = 0;
    const batch = 500;
    for (let start = 0; start < 100_000; start += batch) {
      const calls: Promise<unknown>[] = [];
      for (let i = start; i < start + batch; i++) {
        const kind = i % 4;
        // Every fourth call waits with its own deadline signal (a timeout) tied to the shared one.
        const signal =
          kind === 3 ? AbortSignal.any([shared.signal, timeoutSignal(clock, 1)]) : shared.signal;
        const run = () =>
          b.execute(
            () =>
              limiter.execute(
                () =>
                  breaker.execute(() =>
                    throttle.execute(async () => {
                      if (kind === 1) throw failure;
                      if (kind === 2) await clock.sleep(1, shared.signal);
                      return i;
                    }),
                  ),
                { signal },
              ),
            { signal },
          );
        calls.push(
          run().then(
            () => settled++,
            () => settled++,
          ),
        );
      }
      await clock.runAll();
      await Promise.all(calls);
    }
    expect(settled).toBe(100_000);
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
    expect(b.stats()).toMatchObject({ active: 0, queued: 0 });
    expect(limiter.stats().queued).toBe(0);
    // The mix really happened: refusals, failures and aborted waits.
    expect(b.stats().rejections).toBeGreaterThan(0);
    expect(b.stats().failuresByCategory.network).toBeGreaterThan(0);
    expect(b.stats().successes).toBeGreaterThan(0);
  }, 180_000); // 100,000 calls on virtual time: a few seconds alone, longer when CI runs everything at once
});

/** An AbortSignal that aborts after `ms` on the virtual clock (AbortSignal.timeout uses real time). */
function timeoutSignal(clock: VirtualClock, ms: number): AbortSignal {
  const controller = new AbortController();
  clock.schedule(ms, () => controller.abort(new Error('deadline')));
  return controller.signal;
}
