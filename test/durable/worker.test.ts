import { afterEach, describe, expect, it, vi } from 'vitest';
import { LeaseLostError } from '../../src/durable/errors.js';
import { Queue } from '../../src/durable/queue.js';
import type { DurableStore } from '../../src/durable/store.js';
import { type JobContext, Worker } from '../../src/durable/worker.js';
import { BrokenCircuitError, ConfigError } from '../../src/faults/errors.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const fail = (category: string, extra: object = {}) =>
  Object.assign(new Error(`${category} failure`), { category, ...extra });
const plan = recoveryPlan({ backoff: constantBackoff({ delayMs: 1_000 }) });

let clock: VirtualClock;
let store: MemoryStore;
let workers: Worker<unknown>[] = [];

function setup<P = { n: number }>(storeOverride?: DurableStore) {
  clock = new VirtualClock();
  store = new MemoryStore();
  const queue = new Queue<P>(storeOverride ?? store, 'jobs', { clock });
  const make = (
    handler: (payload: P, ctx: JobContext) => unknown,
    options: ConstructorParameters<typeof Worker>[2] = {},
  ) => {
    const worker = new Worker<P>(queue, handler, {
      plan,
      clock,
      workerId: `w${workers.length}`,
      ...options,
    });
    workers.push(worker as Worker<unknown>);
    return worker;
  };
  return { queue, make };
}

/** Moves virtual time in steps until `done()` holds; fails after `maxMs` of virtual time. */
async function until(
  done: () => boolean | Promise<boolean>,
  maxMs = 120_000,
  stepMs = 50,
): Promise<void> {
  for (let t = 0; t <= maxMs; t += stepMs) {
    if (await done()) return;
    await clock.advance(stepMs);
  }
  throw new Error(`condition not reached within ${maxMs} ms of virtual time`);
}

afterEach(async () => {
  for (const w of workers) await stopNow(w);
  workers = [];
  expect(clock.pendingTimers).toBe(0);
});

async function stopNow(worker: Worker<unknown>) {
  const stopped = worker.stop({ deadlineMs: 1_000 });
  let done = false;
  void stopped.then(() => (done = true));
  await until(() => done, 10_000);
  return stopped;
}

describe('Worker', () => {
  it('runs every job once within its concurrency, claiming and acknowledging in batches', async () => {
    const { queue, make } = setup();
    await queue.enqueueMany(Array.from({ length: 100 }, (_, n) => ({ payload: { n } })));
    const claim = vi.spyOn(store, 'claim');
    const settle = vi.spyOn(store, 'settle');
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    const worker = make(
      async ({ n }) => {
        running++;
        peak = Math.max(peak, running);
        await Promise.resolve();
        seen.push(n);
        running--;
      },
      { concurrency: 10 },
    ).start();
    let drained = false;
    void worker.drained().then(() => (drained = true));
    await until(() => drained);
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, n) => n));
    expect(peak).toBe(10);
    expect(worker.summary()).toMatchObject({ processed: 100, retried: 0, deadLettered: 0 });
    expect(await queue.stats()).toMatchObject({ waiting: 0, running: 0, completed: 100 });
    // Ten at a time: far fewer store round trips than jobs.
    expect(claim.mock.calls.length).toBeLessThan(40);
    expect(settle.mock.calls.length).toBeLessThan(40);
  });

  it('retries by the plan with the attempt number, then completes', async () => {
    const { queue, make } = setup();
    await queue.enqueue({ n: 1 });
    const attempts: number[] = [];
    const retried = vi.fn();
    const worker = make(async (_p, ctx) => {
      attempts.push(ctx.attempt);
      if (ctx.attempt < 3) throw fail('network');
    }).start();
    worker.events.on('retry', retried);
    await until(() => worker.summary().processed === 1);
    expect(attempts).toEqual([1, 2, 3]);
    expect(retried).toHaveBeenCalledTimes(2);
    expect(retried.mock.calls[0]![0]).toMatchObject({
      delayMs: 1_000,
      attempt: 1,
      fault: { category: 'network' },
    });
    expect(worker.summary()).toMatchObject({
      processed: 1,
      retried: 2,
      failuresByCategory: { network: 2 },
    });
  });

  it('dead-letters a skipped fault with its history, suggestions and last checkpoint', async () => {
    const { queue, make } = setup();
    const { id } = await queue.enqueue({ n: 7 });
    const worker = make(async (_p, ctx) => {
      await ctx.saveCheckpoint({ cursor: 3 });
      throw Object.assign(new Error('Unprocessable'), { status: 422 });
    }).start();
    await until(() => worker.summary().deadLettered === 1);
    const [letter] = await queue.deadLetters();
    expect(letter).toMatchObject({
      id,
      payload: { n: 7 },
      attempts: 1,
      checkpoint: { cursor: 3 },
      fault: { category: 'validation' },
    });
    expect(letter!.fault.suggestions.length).toBeGreaterThan(0);
    expect(letter!.history).toEqual([
      expect.objectContaining({
        attempt: 1,
        workerId: 'w0',
        outcome: 'dead',
        category: 'validation',
      }),
    ]);
    expect(worker.summary()).toMatchObject({ skipped: 1, exhausted: 0 });
  });

  it('gives up after the plan limit or the job limit and dead-letters as exhausted', async () => {
    const { queue, make } = setup();
    const { id: limited } = await queue.enqueue({ n: 1 }, { maxAttempts: 2 });
    const { id: byPlan } = await queue.enqueue({ n: 2 });
    const runs = new Map<number, number>();
    const worker = make(async ({ n }) => {
      runs.set(n, (runs.get(n) ?? 0) + 1);
      throw fail('unavailable');
    }).start();
    await until(() => worker.summary().exhausted === 2);
    expect(runs.get(1)).toBe(2);
    expect(runs.get(2)).toBe(5);
    const letters = await queue.deadLetters();
    expect(letters.map((l) => l.id).sort()).toEqual([limited, byPlan].sort());
    expect(letters.find((l) => l.id === byPlan)!.history).toHaveLength(5);
  });

  it('does not charge an attempt when a local policy refused the call (open breaker): waits its retryAfterMs instead', async () => {
    const { queue, make } = setup();
    const { id } = await queue.enqueue({ n: 1 }, { maxAttempts: 2 });
    let refusals = 0;
    const attempts: number[] = [];
    const worker = make(async (_p, ctx) => {
      attempts.push(ctx.attempt);
      // Six refusals: more than the job's two attempts and the plan's five would allow if charged.
      if (refusals < 6) {
        refusals++;
        throw new BrokenCircuitError(undefined, { retryAfterMs: 3_000 });
      }
    }).start();
    await until(() => worker.summary().processed === 1);
    expect(attempts).toEqual([1, 1, 1, 1, 1, 1, 1]);
    const job = await queue.getJob(id);
    expect(job).toMatchObject({ state: 'completed' });
    expect(worker.summary()).toMatchObject({ processed: 1, deadLettered: 0 });
    // Each refusal waited the breaker's remaining open time before the job was claimable again.
    expect(clock.now()).toBeGreaterThanOrEqual(6 * 3_000);
  });

  it('pauses the whole queue on a rate limit, refunds the attempt and resumes after Retry-After', async () => {
    const { queue, make } = setup();
    await queue.enqueueMany([{ payload: { n: 1 } }, { payload: { n: 2 } }]);
    const attempts: string[] = [];
    let limited = false;
    const worker = make(
      async ({ n }, ctx) => {
        attempts.push(`${n}@${ctx.attempt}@${clock.now()}`);
        if (n === 1 && !limited) {
          limited = true;
          throw fail('rate_limit', { retryAfterMs: 30_000 });
        }
      },
      { concurrency: 1 },
    ).start();
    await until(() => worker.summary().pauses === 1);
    expect((await queue.stats()).pausedUntil).toBe(
      clock.wallTime() + 30_000 - (clock.now() - Number(attempts[0]!.split('@')[2])),
    );
    await until(() => worker.summary().processed === 2);
    expect(attempts[0]).toMatch(/^1@1@/);
    expect(attempts[1]).toMatch(/^2@1@/);
    expect(Number(attempts[1]!.split('@')[2])).toBeGreaterThanOrEqual(30_000);
    expect(attempts[2]).toMatch(/^1@1@/);
    expect(worker.summary()).toMatchObject({
      pauses: 1,
      pausedMs: 30_000,
      released: 1,
      processed: 2,
    });
  });

  it('dead-letters a pausing job once the pause budget is spent', async () => {
    const { queue, make } = setup();
    await queue.enqueue({ n: 1 });
    const worker = make(
      async () => {
        throw fail('rate_limit', { retryAfterMs: 40_000 });
      },
      { pauseBudgetMs: 60_000 },
    ).start();
    await until(() => worker.summary().exhausted === 1, 200_000);
    expect(worker.summary()).toMatchObject({ pauses: 1, pausedMs: 40_000 });
    expect((await queue.deadLetters())[0]!.fault.message).toMatch(/pause budget/);
  });

  it('aborts on a fault whose decision is abort: stops claiming, releases running jobs uncharged, tells the owner', async () => {
    const { queue, make } = setup();
    await queue.enqueueMany([{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
    const onAbort = vi.fn();
    const signals: AbortSignal[] = [];
    const worker = make(
      async ({ n }, ctx) => {
        signals.push(ctx.signal);
        if (n === 2) throw fail('auth');
        await new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
        );
      },
      { concurrency: 2, onAbort },
    ).start();
    await until(() => worker.summary().released === 2);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(onAbort.mock.calls[0]![0]).toMatchObject({
      action: 'abort',
      fault: { category: 'auth' },
    });
    expect(signals[0]!.aborted).toBe(true);
    expect(worker.summary().aborted).toBe(true);
    const stats = await queue.stats();
    expect(stats).toMatchObject({ waiting: 3, running: 0, completed: 0 });
    const jobs = await Promise.all(['1', '2'].map((id) => store.getJob(id)));
    expect(jobs.map((j) => j!.attempts)).toEqual([0, 0]);
  });

  it('aborts the handler signal when the lease is lost and writes nothing for that run', async () => {
    const { queue, make } = setup();
    const { id } = await queue.enqueue({ n: 1 });
    vi.spyOn(store, 'renew').mockImplementation(async (leases) => leases.map((l) => l.id));
    let reason: unknown;
    const worker = make(async (_p, ctx) => {
      await new Promise<void>((resolve) =>
        ctx.signal.addEventListener('abort', () => {
          reason = ctx.signal.reason;
          resolve();
        }),
      );
    }).start();
    const lost = vi.fn();
    worker.events.on('leaseLost', lost);
    await until(() => lost.mock.calls.length === 1);
    await clock.advance(100);
    expect(reason).toBeInstanceOf(LeaseLostError);
    expect(worker.summary()).toMatchObject({ processed: 0, leasesLost: 1 });
    expect((await store.getJob(id))!.state).toBe('running');
  });

  it('gives each run the checkpoint the previous run saved', async () => {
    const { queue, make } = setup();
    await queue.enqueue({ n: 1 });
    const seen: unknown[] = [];
    const worker = make(async (_p, ctx) => {
      seen.push(ctx.checkpoint);
      await ctx.saveCheckpoint({ done: ctx.attempt * 10 });
      if (ctx.attempt === 1) throw fail('timeout');
    }).start();
    await until(() => worker.summary().processed === 1);
    expect(seen).toEqual([undefined, { done: 10 }]);
    await expect(store.getJob('1')).resolves.toMatchObject({ checkpoint: '{"done":20}' });
  });

  it('runs the handler inside the pipeline with the pipeline signal', async () => {
    const { queue, make } = setup();
    await queue.enqueue({ n: 1 });
    const calls: string[] = [];
    const controller = new AbortController();
    const pipeline = {
      async execute<T>(
        fn: (ctx: { signal: AbortSignal; attempt: number }) => PromiseLike<T> | T,
      ): Promise<T> {
        calls.push('before');
        const result = await fn({ signal: controller.signal, attempt: 1 });
        calls.push('after');
        return result;
      },
    };
    let signal: AbortSignal | undefined;
    const worker = make(
      (_p, ctx) => {
        calls.push(`handler ${ctx.attempt} ${ctx.job.id}`);
        signal = ctx.signal;
      },
      { pipeline },
    ).start();
    await until(() => worker.summary().processed === 1);
    expect(calls).toEqual(['before', 'handler 1 1', 'after']);
    expect(signal).toBe(controller.signal);
  });

  it('stop() waits for running work, then aborts and releases what ignores the deadline, claimable at once', async () => {
    const { queue, make } = setup();
    await queue.enqueueMany([{ payload: { n: 1 } }, { payload: { n: 2 } }]);
    const worker = make(
      async ({ n }, ctx) => {
        if (n === 1) await clock.sleep(500);
        else await new Promise(() => void ctx.signal); // ignores its signal entirely
      },
      { concurrency: 2 },
    ).start();
    await until(() => worker.running === 2);
    const summary = await stopNow(worker as Worker<unknown>);
    expect(summary).toMatchObject({ processed: 1, released: 1 });
    const job2 = await store.getJob('2');
    expect(job2).toMatchObject({ state: 'waiting', attempts: 0 });
    expect(
      await store.claim({
        queue: 'jobs',
        workerId: 'x',
        limit: 5,
        leaseMs: 1_000,
        now: clock.wallTime(),
        maxStrikes: 3,
      }),
    ).toHaveLength(1);
  });

  it('lets a handler save its checkpoint when stop() aborts it, and releases the job with it', async () => {
    const { queue, make } = setup();
    await queue.enqueue({ n: 1 });
    const worker = make(async (_p, ctx) => {
      let done = 0;
      while (!ctx.signal.aborted) {
        done++;
        await clock.sleep(100);
      }
      await ctx.saveCheckpoint({ done });
      throw ctx.signal.reason;
    }).start();
    await until(() => worker.running === 1);
    await clock.advance(1_000);
    const summary = await stopNow(worker as Worker<unknown>);
    expect(summary).toMatchObject({ processed: 0, released: 1 });
    const job = await store.getJob('1');
    expect(job).toMatchObject({ state: 'waiting', attempts: 0 });
    expect(JSON.parse(job!.checkpoint!).done).toBeGreaterThanOrEqual(10);
  });

  it('stop() resolves even when the store fails and hangs', async () => {
    const hanging = new MemoryStore();
    const broken = Object.assign(Object.create(hanging) as MemoryStore, {
      settle: () => new Promise<never>(() => {}),
      renew: async () => {
        throw new Error('store down');
      },
    });
    const { queue, make } = setup(broken);
    await queue.enqueue({ n: 1 });
    const errors = vi.fn();
    const worker = make(async () => {}, { concurrency: 1 }).start();
    worker.events.on('error', errors);
    await until(async () => (await hanging.stats('jobs', clock.wallTime())).running === 1);
    const summary = await stopNow(worker as Worker<unknown>);
    expect(summary.processed).toBe(0);
  });

  it('validates its options with typed errors', () => {
    const { queue } = setup();
    expect(() => new Worker(queue, () => {}, { concurrency: 0 })).toThrow(ConfigError);
    expect(() => new Worker(queue, () => {}, { leaseMs: 1_000, heartbeatMs: 1_000 })).toThrow(
      /heartbeatMs/,
    );
    expect(() => new Worker(queue, () => {}, { concurency: 3 } as never)).toThrow(/concurency/);
    expect(() => new Worker(queue, 'nope' as never)).toThrow(ConfigError);
  });
});
