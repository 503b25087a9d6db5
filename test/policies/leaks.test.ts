import { getEventListeners, setMaxListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import {
  constantBackoff,
  fallback,
  hedge,
  type Operation,
  pipeline,
  retry,
  timeout,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { networkError } from './helpers.js';

function heapAfterGc(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

describe('leaks', () => {
  it('100,000 executions mixing success, failure, timeout and abort leave no timer, no listener and a flat heap', async () => {
    const clock = new VirtualClock();
    const longLived = new AbortController(); // e.g. a service's shutdown signal, passed to every call
    setMaxListeners(0, longLived.signal); // 1,000 calls in flight each listen while they run
    const policies = [
      pipeline(
        retry({ clock, maxAttempts: 2, backoff: constantBackoff(0) }),
        timeout({ timeoutMs: 50, clock }),
      ),
      timeout({ timeoutMs: 50, strategy: 'aggressive', clock }),
      hedge({ delayMs: 20, clock }),
      pipeline(
        fallback({ value: 'fallback' }),
        retry({ clock, maxAttempts: 2, backoff: constantBackoff(5) }),
        timeout({ timeoutMs: 50, clock }),
      ),
    ];
    const kinds: Operation<string>[] = [
      () => 'ok',
      () => {
        throw networkError();
      },
      (ctx) => clock.sleep(1000, ctx.signal).then(() => 'slow'),
      (ctx) => clock.sleep(1000, ctx.signal).then(() => 'aborted later'),
    ];
    const batch = 1000;
    const batches = 100;
    const outcomes = { fulfilled: 0, rejected: 0 };
    const perCallSignals: AbortSignal[] = [];
    let warmHeap = 0;
    for (let b = 0; b < batches; b++) {
      const policy = policies[b % policies.length]!;
      const aborters: AbortController[] = [];
      const calls: Promise<unknown>[] = [];
      for (let i = 0; i < batch; i++) {
        const kind = i % kinds.length;
        let signal = longLived.signal;
        if (kind === 3) {
          const own = new AbortController();
          aborters.push(own);
          signal = own.signal;
          if (perCallSignals.length < 100) perCallSignals.push(own.signal);
        }
        // Settle handlers attached at once: a rejection is handled the moment it happens.
        calls.push(
          policy.execute(kinds[kind]!, { signal, operation: 'leak_check' }).then(
            () => outcomes.fulfilled++,
            () => outcomes.rejected++,
          ),
        );
      }
      await clock.advance(1);
      for (const own of aborters) own.abort(new Error('caller gave up'));
      await clock.advance(1000);
      await Promise.all(calls);
      if (b === 9) warmHeap = heapAfterGc();
    }
    expect(outcomes.fulfilled + outcomes.rejected).toBe(batch * batches);
    expect(outcomes.fulfilled).toBeGreaterThan(0);
    expect(outcomes.rejected).toBeGreaterThan(0);
    await clock.advance(1000);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(longLived.signal, 'abort')).toHaveLength(0);
    for (const signal of perCallSignals) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
    const endHeap = heapAfterGc();
    // 90,000 more executions after the warm-up must not have grown the heap (generous bound for GC noise).
    expect(endHeap - warmHeap).toBeLessThan(8 * 1024 * 1024);
  }, 120_000);
});
