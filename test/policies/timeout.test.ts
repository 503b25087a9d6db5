import { getEventListeners } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, type OperationContext, TimeoutError, timeout } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { track } from './helpers.js';

/** Rejects with the signal's reason when it aborts; never settles otherwise. */
function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

const RealAbortController = globalThis.AbortController;
afterEach(() => {
  globalThis.AbortController = RealAbortController;
});

/** Counts AbortControllers made from now on. */
function countControllers(): { readonly made: number } {
  const counter = { made: 0 };
  globalThis.AbortController = class extends RealAbortController {
    constructor() {
      super();
      counter.made++;
    }
  };
  return counter;
}

describe('timeout', () => {
  it('cooperative: aborts the signal at the deadline and the caller gets a TimeoutError', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 1000, clock });
    const events: unknown[] = [];
    policy.events.on('timeout', (e) => events.push(e));
    const call = track(
      policy.execute((ctx) => untilAborted(ctx.signal), { operation: 'fetch_status' }),
    );
    await clock.advance(999);
    expect(call.settled()).toBe(false);
    await clock.advance(1);
    const error = await call.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as TimeoutError).timeoutMs).toBe(1000);
    expect((error as { operation?: unknown }).operation).toEqual({ name: 'fetch_status' });
    expect(events).toEqual([
      {
        timeoutMs: 1000,
        strategy: 'cooperative',
        signalRead: true,
        operation: { name: 'fetch_status' },
      },
    ]);
    expect(policy.stats()).toMatchObject({
      executions: 1,
      failures: 1,
      timeouts: 1,
      failuresByCategory: { timeout: 1 },
    });
    expect(clock.pendingTimers).toBe(0);
  });

  it('cooperative: a function that ignores its signal is waited for; a late result is returned, a late error becomes a TimeoutError', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 100, clock });
    const late = policy.execute(async () => {
      await clock.sleep(300);
      return 'late but done';
    });
    const lateError = new Error('gave up by itself');
    const failing = policy
      .execute(async () => {
        await clock.sleep(300);
        throw lateError;
      })
      .catch((e: unknown) => e);
    await clock.advance(300);
    await expect(late).resolves.toBe('late but done');
    const error = (await failing) as TimeoutError;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error.cause).toBe(lateError);
  });

  it('aggressive: releases the caller at the deadline even if the function ignores its signal', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 50, strategy: 'aggressive', clock });
    let signal: AbortSignal | undefined;
    const call = track(
      policy.execute((ctx) => {
        signal = ctx.signal;
        return new Promise<string>(() => {});
      }),
    );
    await clock.advance(50);
    expect(call.settled()).toBe(true);
    await expect(call.result).rejects.toBeInstanceOf(TimeoutError);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(TimeoutError);
  });

  it('aggressive: a result before the deadline wins, and a late one is dropped', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 50, strategy: 'aggressive', clock });
    await expect(policy.execute(() => 'fast')).resolves.toBe('fast');
    await expect(policy.execute(() => Promise.reject(new Error('fast failure')))).rejects.toThrow(
      'fast failure',
    );
    const slow = policy.execute(async () => {
      await clock.sleep(80);
      return 'too late';
    });
    const caught = slow.catch((e: unknown) => e);
    await clock.advance(100);
    expect(await caught).toBeInstanceOf(TimeoutError);
    expect(policy.stats()).toMatchObject({ executions: 3, successes: 1, failures: 2, timeouts: 1 });
  });

  it('creates no AbortController for a function that never reads its signal', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 10, clock });
    const counter = countControllers();
    for (let i = 0; i < 100; i++) await policy.execute(() => i);
    expect(counter.made).toBe(0);
    await policy.execute((ctx) => ctx.signal.aborted);
    expect(counter.made).toBe(1);
  });

  it('serves every call in flight with one timer and leaves none after the last deadline', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 1000, clock });
    const calls = Array.from({ length: 1000 }, (_, i) =>
      policy.execute(async () => {
        await clock.sleep(i % 2 === 0 ? 10 : 2000);
        return i;
      }),
    );
    await clock.advance(0);
    // 1000 sleeps of the functions themselves + one shared deadline timer.
    expect(clock.pendingTimers).toBe(1001);
    const settled = Promise.allSettled(calls);
    await clock.advance(2000);
    const results = await settled;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('passes the caller abort through to the signal and removes its listener when done', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 1000, clock });
    const caller = new AbortController();
    await policy.execute((ctx) => ctx.signal.aborted, { signal: caller.signal });
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    const call = policy
      .execute((ctx) => untilAborted(ctx.signal), { signal: caller.signal })
      .catch((e: unknown) => e);
    await clock.advance(1);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(1);
    const reason = new Error('stop');
    caller.abort(reason);
    expect(await call).toBe(reason);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
  });

  it('long timeouts trade precision for not reading the clock per call: never early, at most 2 × resolution late', async () => {
    const clock = new VirtualClock();
    const policy = timeout({ timeoutMs: 10_000, clock }); // resolution 100 ms
    const reads = { count: 0 };
    const now = clock.now.bind(clock);
    clock.now = () => {
      reads.count++;
      return now();
    };
    const starts = [0, 30, 250];
    const readsPerCall: number[] = [];
    const settledAt: number[] = [];
    const outcomes: Promise<unknown>[] = [];
    for (const [i, startAt] of starts.entries()) {
      await clock.advance(startAt - now());
      const before = reads.count;
      const call = policy.execute((ctx) => untilAborted(ctx.signal));
      readsPerCall.push(reads.count - before);
      outcomes.push(
        call.catch((error: unknown) => {
          settledAt[i] = now();
          return error;
        }),
      );
    }
    // The first call read the clock; the next ones, made while the tick runs, did not.
    expect(readsPerCall).toEqual([1, 0, 0]);
    await clock.advance(11_000);
    for (const outcome of await Promise.all(outcomes)) expect(outcome).toBeInstanceOf(TimeoutError);
    for (const [i, startAt] of starts.entries()) {
      expect(settledAt[i]! - startAt).toBeGreaterThanOrEqual(10_000);
      expect(settledAt[i]! - startAt).toBeLessThanOrEqual(10_200);
    }
    await clock.advance(1_000);
    expect(clock.pendingTimers).toBe(0);
  });

  it("keeps nothing of a finished call alive, though it reuses the call's run", async () => {
    const policy = timeout({ timeoutMs: 1000, clock: new VirtualClock() });
    let operation: OperationContext | undefined = {
      name: 'upload',
      attributes: { body: new Array(1000).fill(0) },
    };
    const kept = new WeakRef(operation);
    expect(await policy.execute((ctx) => ctx.operation?.name, { operation })).toBe('upload');
    operation = undefined;
    await new Promise((resolve) => setImmediate(resolve)); // a new macrotask: WeakRef targets may go
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
    expect(kept.deref()).toBeUndefined();
  });

  it('validates its options', () => {
    for (const options of [
      { timeoutMs: -1 },
      { timeoutMs: Number.NaN },
      { timeoutMs: 10, strategy: 'brutal' },
      { timeoutMs: 1, clock: {} },
      { timeoutMs: 1, extra: 1 },
      { timeoutMs: 1, resolutionMs: -5 },
    ]) {
      expect(() => timeout(options as never), JSON.stringify(options)).toThrow(ConfigError);
    }
    expect(() => timeout('5' as never)).toThrow(ConfigError);
    expect(timeout(5).describe()).toBe('timeout(5 ms, cooperative)');
  });
});

describe('timeout: the two forms', () => {
  it('takes milliseconds or options, and says which forms it takes otherwise', () => {
    expect(timeout(2000).timeoutMs).toBe(2000);
    expect(timeout({ timeoutMs: 2000 }).timeoutMs).toBe(2000);
    expect(() => timeout('2000' as unknown as number)).toThrow(ConfigError);
    expect(() => timeout('2000' as unknown as number)).toThrow(
      'as in timeout(2000), or options, as in timeout({ timeoutMs: 2000 })',
    );
  });
});
