import { describe, expect, it, vi } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import type { Decision } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * The worker side of finding 6 (issue 17): a store fault that cannot heal (classified
 * `resource`, not retryable: corrupt, full, file gone) stops the worker through the plan's
 * abort path instead of failing every claim forever; a transient one is retried with backoff.
 */

const sqliteError = (code: string, message: string) => Object.assign(new Error(message), { code });

async function advanceUntil(clock: VirtualClock, done: () => boolean, maxMs = 30_000) {
  for (let t = 0; t < maxMs && !done(); t += 10) await clock.advance(10);
}

describe('store faults seen by the worker', () => {
  it('a corrupt store aborts the worker once, through onAbort, instead of spinning on claim errors', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'q', { clock });
    await queue.enqueue({ n: 1 });
    const claim = vi
      .spyOn(store, 'claim')
      .mockRejectedValue(sqliteError('SQLITE_CORRUPT', 'database disk image is malformed'));
    const onAbort = vi.fn<(decision: Decision) => void>();
    const errors = vi.fn();
    const worker = new Worker(queue, () => {}, { clock, onAbort, pollMs: 50 });
    worker.events.on('error', errors);
    worker.start();
    await advanceUntil(clock, () => onAbort.mock.calls.length > 0);
    await clock.advance(2_000);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(onAbort.mock.calls[0]![0]).toMatchObject({
      action: 'abort',
      fault: { category: 'resource', retryable: false },
    });
    expect(onAbort.mock.calls[0]![0].reason).toMatch(/does not heal/);
    expect(claim).toHaveBeenCalledTimes(1);
    expect(errors).toHaveBeenCalledTimes(1);
    expect(worker.summary().aborted).toBe(true);
    const stopped = worker.stop();
    await advanceUntil(clock, () => false, 100);
    await stopped;
  });

  it('a busy store is retried with growing waits (pollMs, doubling, at most 2 s), counted in the summary', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'q', { clock });
    await queue.enqueue({ n: 1 });
    const realClaim = store.claim.bind(store);
    const calls: number[] = [];
    vi.spyOn(store, 'claim').mockImplementation(async (request) => {
      calls.push(clock.now());
      if (calls.length <= 6) throw sqliteError('SQLITE_BUSY', 'database is locked');
      return realClaim(request);
    });
    const onAbort = vi.fn();
    let completed = false;
    const worker = new Worker(queue, () => {}, { clock, onAbort, pollMs: 100 });
    worker.events.on('error', () => {});
    worker.events.on('completed', () => (completed = true));
    worker.start();
    await advanceUntil(clock, () => completed);
    expect(completed).toBe(true);
    expect(onAbort).not.toHaveBeenCalled();
    const waits = calls.slice(1, 7).map((at, i) => at - calls[i]!);
    expect(waits).toEqual([100, 200, 400, 800, 1_600, 2_000]);
    expect(worker.summary()).toMatchObject({ storeErrors: 6, aborted: false, processed: 1 });
    const stopped = worker.stop();
    await advanceUntil(clock, () => false, 100);
    await stopped;
  });
  it('a read-only store on lease renewal aborts the worker once: the handler is stopped, renewals do not loop', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'q', { clock });
    await queue.enqueue({ n: 1 });
    const renew = vi
      .spyOn(store, 'renew')
      .mockRejectedValue(sqliteError('SQLITE_READONLY', 'attempt to write a readonly database'));
    const onAbort = vi.fn<(decision: Decision) => void>();
    let starts = 0;
    let handlerAborted = false;
    const worker = new Worker(
      queue,
      async (_payload, ctx) => {
        starts++;
        await clock.sleep(60_000, ctx.signal).catch(() => (handlerAborted = true));
      },
      { clock, onAbort, leaseMs: 1_000, concurrency: 1 },
    );
    worker.events.on('error', () => {});
    worker.start();
    await advanceUntil(clock, () => onAbort.mock.calls.length > 0, 10_000);
    await clock.advance(5_000);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(onAbort.mock.calls[0]![0]).toMatchObject({
      action: 'abort',
      fault: { category: 'resource', retryable: false },
    });
    expect(handlerAborted).toBe(true);
    // Stopped at the first failed renewal: no run again on a store it cannot write.
    expect(starts).toBe(1);
    expect(renew).toHaveBeenCalledTimes(1);
    expect(worker.summary().aborted).toBe(true);
    const stopped = worker.stop();
    await advanceUntil(clock, () => false, 100);
    await stopped;
  });

  it('a full store when writing an outcome aborts the worker once; its outcomes are tried until its stop ends', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'q', { clock });
    await queue.enqueueMany([{ payload: { n: 1 } }, { payload: { n: 2 } }]);
    const settle = vi
      .spyOn(store, 'settle')
      .mockRejectedValue(sqliteError('SQLITE_FULL', 'database or disk is full'));
    const onAbort = vi.fn<(decision: Decision) => void>();
    const completed = vi.fn();
    const unrecorded: string[] = [];
    const started: string[] = [];
    const worker = new Worker(queue, (_p, ctx) => void started.push(ctx.job.id), {
      clock,
      onAbort,
      concurrency: 1,
    });
    worker.events.on('error', () => {});
    worker.events.on('completed', completed);
    worker.events.on('leaseLost', (e) => unrecorded.push(e.jobId));
    worker.start();
    await advanceUntil(clock, () => onAbort.mock.calls.length > 0, 10_000);
    await clock.advance(2_000);
    expect(onAbort).toHaveBeenCalledTimes(1);
    expect(onAbort.mock.calls[0]![0].fault).toMatchObject({ category: 'resource' });
    expect(completed).not.toHaveBeenCalled();
    expect(started.length).toBeGreaterThan(0);
    // Still trying: the store may come back while the worker stops.
    expect(unrecorded).toEqual([]);
    expect(settle.mock.calls.length).toBeGreaterThan(started.length);
    const stopped = worker.stop({ deadlineMs: 3_000 });
    await advanceUntil(clock, () => unrecorded.length >= started.length, 10_000);
    await stopped;
    // The store never came back: every job that ran is reported unrecorded, once, at the stop.
    expect(unrecorded.sort()).toEqual(started.sort());
    const writes = settle.mock.calls.length;
    await clock.advance(10_000);
    expect(settle.mock.calls.length).toBe(writes);
  });

  it('a full store that heals while the worker stops still hears of its outcomes: no job is charged a crash', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'q', { clock });
    const ids = (await queue.enqueueMany([1, 2, 3].map((n) => ({ payload: { n } })))).map(
      (r) => r.id,
    );
    const realSettle = store.settle.bind(store);
    let full = true;
    vi.spyOn(store, 'settle').mockImplementation(async (outcomes, now) => {
      if (full) throw sqliteError('SQLITE_FULL', 'database or disk is full');
      return realSettle(outcomes, now);
    });
    let stopped: Promise<unknown> | undefined;
    const completed: string[] = [];
    // One slot: the first job's completion fails; the second is running then (the worker's
    // stop aborts it) and the third held ahead.
    const worker = new Worker(queue, (_p, ctx) => clock.sleep(100, ctx.signal), {
      clock,
      concurrency: 1,
      onAbort: () => {
        stopped = worker.stop({ deadlineMs: 10_000 });
      },
    });
    worker.events.on('error', () => {});
    worker.events.on('completed', (e) => completed.push(e.jobId));
    worker.start();
    await advanceUntil(clock, () => stopped !== undefined, 10_000);
    await clock.advance(1_000);
    full = false;
    await advanceUntil(clock, () => completed.length > 0, 5_000);
    await stopped;
    expect(completed).toEqual([ids[0]]);
    expect((await store.getJob(ids[0]!))?.state).toBe('completed');
    // The others went back (stopped, or unstarted): no attempt, no strike, no crash recorded.
    const again = await store.claim({
      queue: 'q',
      workerId: 'next',
      limit: 10,
      leaseMs: 1_000,
      now: clock.wallTime(),
      maxStrikes: 3,
    });
    expect(again.map((j) => [j.id, j.attempt, j.strikes])).toEqual([
      [ids[1], 1, 0],
      [ids[2], 1, 0],
    ]);
  });
});
