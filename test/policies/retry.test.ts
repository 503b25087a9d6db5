import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  constantBackoff,
  exponentialBackoff,
  type Fault,
  RetriesExhaustedError,
  recoveryPlan,
  retry,
  type RetryEvents,
} from '../../src/index.js';
import type { Clock } from '../../src/time/clock.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { httpError, networkError, track } from './helpers.js';

const fixed = (ms: number) => constantBackoff(ms);

describe('retry', () => {
  it('returns the first success without waiting or scheduling anything', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 3, backoff: fixed(100) });
    await expect(policy.execute((ctx) => `attempt ${ctx.attempt}`)).resolves.toBe('attempt 1');
    expect(clock.pendingTimers).toBe(0);
    expect(policy.stats()).toMatchObject({ executions: 1, successes: 1, failures: 0, retries: 0 });
  });

  it('retries transient faults on the backoff schedule, counting attempts and passing the previous fault', async () => {
    const clock = new VirtualClock();
    const policy = retry({
      clock,
      maxAttempts: 4,
      backoff: exponentialBackoff({ initialMs: 100, jitter: 'none', maxDelayMs: 1000 }),
    });
    const seen: { attempt: number; at: number; previous?: string }[] = [];
    const retries: RetryEvents['retry'][] = [];
    policy.events.on('retry', (e) => retries.push(e));
    const call = track(
      policy.execute((ctx) => {
        seen.push({ attempt: ctx.attempt, at: clock.now(), previous: ctx.previousFault?.category });
        if (ctx.attempt < 4) throw networkError();
        return 'ok';
      }),
    );
    await clock.advance(699);
    expect(call.settled()).toBe(false);
    await clock.advance(1);
    await expect(call.result).resolves.toBe('ok');
    expect(seen).toEqual([
      { attempt: 1, at: 0, previous: undefined },
      { attempt: 2, at: 100, previous: 'network' },
      { attempt: 3, at: 300, previous: 'network' },
      { attempt: 4, at: 700, previous: 'network' },
    ]);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.fault.category])).toEqual([
      [1, 100, 'network'],
      [2, 200, 'network'],
      [3, 400, 'network'],
    ]);
    expect(policy.stats()).toMatchObject({ executions: 1, successes: 1, retries: 3 });
    expect(clock.pendingTimers).toBe(0);
  });

  it('gives up with RetriesExhaustedError carrying attempts, total delay, last fault and the last error as cause', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 3, backoff: fixed(50) });
    const errors: Error[] = [];
    const giveUps: RetryEvents['giveUp'][] = [];
    policy.events.on('giveUp', (e) => giveUps.push(e));
    const call = policy.execute(() => {
      const error = networkError();
      errors.push(error);
      throw error;
    });
    const caught = call.catch((e: unknown) => e);
    await clock.runAll();
    const error = (await caught) as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.attempts).toBe(3);
    expect(error.totalDelayMs).toBe(100);
    expect(error.lastFault.category).toBe('network');
    expect(error.cause).toBe(errors[2]);
    expect(error.retryable).toBe(false);
    expect(giveUps).toHaveLength(1);
    expect(giveUps[0]).toMatchObject({ reason: 'exhausted', attempts: 3, error });
    expect(policy.stats()).toMatchObject({
      failures: 1,
      failuresByCategory: { network: 1 },
      retries: 2,
    });
  });

  it('rethrows the original error at once when the plan says abort (401) or skip (404, validation)', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxAttempts: 5, backoff: fixed(10) });
    for (const status of [401, 404, 410, 403, 422]) {
      const original = httpError(status);
      let calls = 0;
      const outcome = await policy
        .execute(() => {
          calls++;
          throw original;
        })
        .catch((e: unknown) => e);
      expect(outcome).toBe(original);
      expect(calls).toBe(1);
    }
    expect(clock.pendingTimers).toBe(0);
  });

  it('never retries earlier than Retry-After asks, rounding up', async () => {
    const clock = new VirtualClock();
    const plan = recoveryPlan({
      rules: { rate_limit: { action: 'pause', backoff: fixed(0), maxAttempts: 5 } },
    });
    const policy = retry({ clock, plan });
    const at: number[] = [];
    const call = policy.execute(() => {
      at.push(clock.now());
      if (at.length === 1) throw Object.assign(httpError(429), { retryAfterMs: 1500.2 });
      if (at.length === 2) throw httpError(429, { 'retry-after': '2' });
      return 'done';
    });
    await clock.runAll();
    await expect(call).resolves.toBe('done');
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1501);
    expect(at[2]! - at[1]!).toBeGreaterThanOrEqual(2000);
  });

  it('waits out the remainder when a real timer fires early, so the server is never called back too soon', async () => {
    // A clock whose timers fire a little early, as Node's may relative to performance.now().
    let now = 0;
    const early: Clock = {
      now: () => now,
      wallTime: () => now,
      sleep: async (ms) => {
        now += Math.max(0, ms - 0.4);
      },
      schedule: () => () => {},
    };
    const policy = retry({ clock: early, backoff: fixed(0), maxAttempts: 2 });
    const at: number[] = [];
    await policy.execute(() => {
      at.push(now);
      if (at.length === 1) throw Object.assign(httpError(503), { retryAfterMs: 1000 });
      return 1;
    });
    expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(1000);
  });

  it('gives up instead of honouring a Retry-After longer than maxRetryAfterMs', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, maxRetryAfterMs: 10_000, backoff: fixed(1) });
    let calls = 0;
    const outcome = await policy
      .execute(() => {
        calls++;
        throw httpError(503, { 'retry-after': '60' });
      })
      .catch((e: unknown) => e);
    expect(outcome).toBeInstanceOf(RetriesExhaustedError);
    expect((outcome as RetriesExhaustedError).message).toMatch(/maxRetryAfterMs/);
    expect(calls).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends the wait at once when the caller aborts, leaving no timer and no listener', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, backoff: fixed(60_000), maxAttempts: 3 });
    const controller = new AbortController();
    let calls = 0;
    const call = policy
      .execute(
        () => {
          calls++;
          throw networkError();
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(1);
    const reason = new Error('client went away');
    controller.abort(reason);
    expect(await call).toBe(reason);
    expect(calls).toBe(1);
    expect(clock.now()).toBe(10);
    expect(clock.pendingTimers).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('does not retry an attempt that failed after the caller aborted, and throws the signal reason (as documented)', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, backoff: fixed(10), maxAttempts: 3 });
    const controller = new AbortController();
    const reason = new Error('the caller went away');
    const original = networkError();
    const givenUp: unknown[] = [];
    policy.events.on('giveUp', (event) => givenUp.push(event.error));
    let calls = 0;
    const outcome = await policy
      .execute(
        () => {
          calls++;
          controller.abort(reason);
          throw original;
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    expect(outcome).toBe(reason);
    expect(calls).toBe(1);
    // The attempt's own error is not lost: the giveUp event carries it.
    expect(givenUp).toEqual([original]);
  });

  it('throws the signal reason when the caller aborts during a later attempt too', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, backoff: fixed(10), maxAttempts: 5 });
    const controller = new AbortController();
    let calls = 0;
    const outcome = policy
      .execute(
        async ({ signal }) => {
          calls++;
          if (calls === 2) {
            await new Promise((_resolve, reject) =>
              signal.addEventListener('abort', () => reject(new Error('attempt saw the abort'))),
            );
          }
          throw networkError();
        },
        { signal: controller.signal },
      )
      .catch((e: unknown) => e);
    await clock.advance(10);
    controller.abort();
    expect(await outcome).toBe(controller.signal.reason);
    expect(((await outcome) as Error).name).toBe('AbortError');
    expect(calls).toBe(2);
  });

  it('gives up when the next wait would pass maxElapsedMs', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, backoff: fixed(400), maxElapsedMs: 1000 });
    let calls = 0;
    const caught = policy
      .execute(async () => {
        calls++;
        await clock.sleep(50);
        throw networkError();
      })
      .catch((e: unknown) => e);
    await clock.runAll();
    const error = (await caught) as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    // 0-50 fail, wait 400, 450-500 fail, wait 400, 900-950 fail, next wait would end at 1350 > 1000.
    expect(calls).toBe(3);
    expect(error.totalDelayMs).toBe(800);
  });

  it('uses the plan when no backoff is given, including per-category attempt limits', async () => {
    const clock = new VirtualClock();
    const plan = recoveryPlan({ backoff: fixed(5), maxAttempts: { unavailable: 2 } });
    const policy = retry({ clock, plan });
    let calls = 0;
    const caught = policy
      .execute(() => {
        calls++;
        throw httpError(503);
      })
      .catch((e: unknown) => e);
    await clock.runAll();
    expect(await caught).toBeInstanceOf(RetriesExhaustedError);
    expect(calls).toBe(2);
  });

  it('carries the operation into events and errors', async () => {
    const clock = new VirtualClock();
    const policy = retry({ clock, backoff: fixed(1), maxAttempts: 2 });
    const operations: unknown[] = [];
    policy.events.on('retry', (e) => operations.push(e.operation));
    policy.events.on('giveUp', (e) => operations.push(e.operation));
    const operation = { name: 'download_video', attributes: { videoId: 'v42' } };
    const caught = policy
      .execute(
        (ctx) => {
          expect(ctx.operation).toEqual(operation);
          throw networkError();
        },
        { operation },
      )
      .catch((e: unknown) => e);
    await clock.runAll();
    const error = (await caught) as RetriesExhaustedError & { operation: unknown };
    expect(error.operation).toEqual(operation);
    expect(operations).toEqual([operation, operation]);
  });

  it('does not multiply attempts across nested retry layers: RetriesExhaustedError is not retried', async () => {
    const clock = new VirtualClock();
    const inner = retry({ clock, maxAttempts: 3, backoff: fixed(1) });
    const outer = retry({ clock, maxAttempts: 3, backoff: fixed(1) });
    let calls = 0;
    const caught = outer
      .execute((ctx) =>
        inner.execute(
          () => {
            calls++;
            throw networkError();
          },
          { context: ctx },
        ),
      )
      .catch((e: unknown) => e);
    await clock.runAll();
    expect(await caught).toBeInstanceOf(RetriesExhaustedError);
    expect(calls).toBe(3);
  });

  it('uses a custom classifier', async () => {
    const clock = new VirtualClock();
    const classify = (error: unknown): Fault => ({
      category: 'permanent',
      retryable: false,
      message: String(error),
      cause: error,
      suggestions: [],
      source: 'test',
    });
    const policy = retry({ clock, classify, maxAttempts: 5 });
    let calls = 0;
    await expect(
      policy.execute(() => {
        calls++;
        throw networkError();
      }),
    ).rejects.toThrow('socket ECONNRESET');
    expect(calls).toBe(1);
  });

  it('validates every option at construction', () => {
    const bad: Record<string, unknown>[] = [
      { maxAttempts: 0 },
      { maxAttempts: 1.5 },
      { maxAttempts: '3' },
      { maxElapsedMs: -1 },
      { maxRetryAfterMs: Number.NaN },
      { backoff: { delay: () => 1 } },
      { plan: {} },
      { classify: 'yes' },
      { budget: 0.1 },
      { clock: Date },
      { random: 4 },
      { maxAtempts: 3 },
    ];
    for (const options of bad) {
      expect(() => retry(options as never), JSON.stringify(options)).toThrow(ConfigError);
    }
    try {
      retry({ maxAttempts: -2 });
    } catch (error) {
      expect((error as ConfigError).option).toBe('retry.maxAttempts');
      expect((error as ConfigError).value).toBe(-2);
    }
  });

  it('describes itself', () => {
    expect(retry({ maxAttempts: 3, backoff: fixed(5) }).describe()).toBe(
      'retry(3 attempts, constant backoff)',
    );
  });
});
