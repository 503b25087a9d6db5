import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import type { ClaimedJob } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { JobsAhead } from '../../src/durable/worker-ahead.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** `prefetch`: jobs a worker claims ahead of its free slots, and hands back unstarted. */

let clock: VirtualClock;
const workers: Worker<unknown>[] = [];

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    const stopped = worker.stop({ deadlineMs: 1_000 });
    let done = false;
    void stopped.then(() => (done = true));
    for (let i = 0; i < 400 && !done; i++) await clock.advance(50);
  }
  expect(clock.pendingTimers).toBe(0);
});

async function until(done: () => boolean | Promise<boolean>, maxMs = 60_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += 10) {
    if (await done()) return;
    await clock.advance(10);
  }
  throw new Error(`condition not reached within ${maxMs} ms of virtual time`);
}

function setup(jobs: number) {
  clock = new VirtualClock();
  const store = new MemoryStore();
  const queue = new Queue<{ n: number }>(store, 'jobs', { clock });
  const started: string[] = [];
  const make = (workMs: number, options: ConstructorParameters<typeof Worker>[2]) => {
    const worker = new Worker<{ n: number }>(
      queue,
      async (_p, ctx) => {
        started.push(ctx.job.id);
        if (workMs > 0) await clock.sleep(workMs, ctx.signal).catch(() => undefined);
      },
      { clock, leaseMs: 1_000, pollMs: 100, ...options },
    );
    workers.push(worker as Worker<unknown>);
    return worker;
  };
  const enqueued = queue.enqueueMany(Array.from({ length: jobs }, (_, n) => ({ payload: { n } })));
  return { store, queue, started, make, enqueued };
}

describe('Worker prefetch', () => {
  it('claims ahead of its free slots and runs no more than its concurrency at once', async () => {
    const { queue, started, make, enqueued } = setup(30);
    await enqueued;
    const worker = make(200, { concurrency: 2, prefetch: 6 }).start();
    await until(() => started.length === 2);
    // Claimed: two running, six held; the rest of the queue is left to other workers.
    expect(await queue.stats()).toMatchObject({ running: 8, waiting: 22 });
    expect(worker.running).toBe(2);
    await until(async () => (await queue.stats()).completed === 30);
    expect(started).toHaveLength(30);
  });

  it('hands held jobs back unstarted on stop: no attempt, no strike, no history', async () => {
    const { store, queue, started, make, enqueued } = setup(10);
    await enqueued;
    const worker = make(100, { concurrency: 2, prefetch: 4 }).start();
    await until(() => started.length === 2);
    const stopped = worker.stop({ deadlineMs: 1_000 });
    let done = false;
    void stopped.then(() => (done = true));
    await until(() => done);
    workers.length = 0;
    expect(await queue.stats()).toMatchObject({ completed: 2, running: 0, waiting: 8 });
    for (let id = 1; id <= 10; id++) {
      const job = (await store.getJob(String(id)))!;
      if (started.includes(job.id)) continue;
      expect(job).toMatchObject({ state: 'waiting', attempts: 0, history: [] });
    }
    // They are waiting, not leased: another worker takes and finishes them.
    const again = make(10, { concurrency: 8, prefetch: 0 }).start();
    await until(async () => (await queue.stats()).completed === 10);
    expect(again.summary().processed).toBe(8);
  });

  it('a held job that cannot start in time goes back unstarted, and the worker holds fewer', async () => {
    const { store, queue, started, make, enqueued } = setup(12);
    await enqueued;
    // 600 ms jobs, one at a time: a held job waits longer than half its start window (375 ms).
    const worker = make(600, { concurrency: 1, prefetch: 4 }).start();
    await until(async () => (await queue.stats()).completed === 12);
    expect(worker.summary().staleClaims).toBeGreaterThan(0);
    expect(started).toHaveLength(12);
    for (let id = 1; id <= 12; id++)
      expect(await store.getJob(String(id))).toMatchObject({ attempts: 1, history: [] });
    // Fewer held after the hand-backs: far fewer stale claims than jobs.
    expect(worker.summary().staleClaims).toBeLessThan(12);
  });

  /** The `limit` of every claim the worker sends; each claim takes `claimMs` (a distant store). */
  function claimLimits(store: MemoryStore, claimMs: number): number[] {
    const limits: number[] = [];
    const claim = store.claim.bind(store);
    store.claim = async (request) => {
      limits.push(request.limit);
      await clock.sleep(claimMs);
      return claim(request);
    };
    return limits;
  }

  it('unset, holds more for jobs that run faster than claims bring them: up to 20 × concurrency', async () => {
    const { store, queue, make, enqueued } = setup(3_000);
    await enqueued;
    const limits = claimLimits(store, 5);
    make(0, { concurrency: 2 }).start();
    await until(async () => (await queue.stats()).completed === 3_000);
    // Starts at 2 + 3 × 2; grows to 2 + 20 × 2 and no further.
    expect(limits[0]).toBe(8);
    expect(Math.max(...limits)).toBe(42);
  });

  it('unset, holds no more than 3 × concurrency for jobs slower than a claim', async () => {
    const { store, queue, make, enqueued } = setup(60);
    await enqueued;
    const limits = claimLimits(store, 5);
    make(50, { concurrency: 2 }).start();
    await until(async () => (await queue.stats()).completed === 60);
    expect(Math.max(...limits)).toBe(8);
  });

  it('a number fixes the most it holds, however fast the jobs', async () => {
    const { store, queue, make, enqueued } = setup(1_000);
    await enqueued;
    const limits = claimLimits(store, 5);
    make(0, { concurrency: 2, prefetch: 6 }).start();
    await until(async () => (await queue.stats()).completed === 1_000);
    expect(Math.max(...limits)).toBe(8);
  });

  it('prefetch 0 claims only for free slots', async () => {
    const { queue, started, make, enqueued } = setup(10);
    await enqueued;
    make(200, { concurrency: 3, prefetch: 0 }).start();
    await until(() => started.length === 3);
    expect(await queue.stats()).toMatchObject({ running: 3, waiting: 7 });
  });

  it('refuses a negative or fractional prefetch', () => {
    const { make } = setup(0);
    expect(() => make(0, { prefetch: -1 })).toThrow(/prefetch/);
    expect(() => make(0, { prefetch: 1.5 })).toThrow(/prefetch/);
  });
});

describe('JobsAhead', () => {
  const job = (id: number, strikes: number): ClaimedJob =>
    ({ id: String(id), token: `t${id}`, strikes }) as unknown as ClaimedJob;

  it('agrees with a model: claim order, struck count, room between 0 and the maximum', () => {
    const command = fc.oneof(
      fc.record({ op: fc.constant('add' as const), strikes: fc.nat(2) }),
      fc.constant({ op: 'next' as const }),
      fc.constant({ op: 'takeAll' as const }),
      fc.constant({ op: 'inTime' as const }),
      fc.constant({ op: 'stale' as const }),
      fc.record({ op: fc.constant('send' as const), free: fc.nat(3), requested: fc.nat(6) }),
      fc.record({ op: fc.constant('return' as const), short: fc.boolean() }),
    );
    fc.assert(
      fc.property(
        fc.nat(20),
        fc.nat(40),
        fc.array(command, { maxLength: 80 }),
        (base, extra, commands) => {
          const max = base + extra;
          const ahead = new JobsAhead(base, max);
          const model: ClaimedJob[] = [];
          // The rules, restated: grow (double, up to max) when a full claim returns after the
          // held jobs ran out by starting, not by going back.
          let limit = base;
          let ceiling = base;
          let lastFull = false;
          let out = false;
          let dry = false;
          let wentBack = false;
          let askedAhead = 0;
          let id = 0;
          for (const c of commands) {
            if (c.op === 'add') {
              const j = job(++id, c.strikes);
              ahead.add(j, 0);
              model.push(j);
            } else if (c.op === 'next') {
              if (model.length === 0 && out) dry = true;
              expect(ahead.next()?.job).toBe(model.shift());
            } else if (c.op === 'takeAll') {
              expect(ahead.takeAll()).toEqual(model.splice(0));
              lastFull = false;
              wentBack = true;
            } else if (c.op === 'inTime') {
              ahead.startedInTime();
              limit = Math.min(ceiling, limit + 1);
            } else if (c.op === 'stale') {
              ahead.wentStale();
              limit = Math.floor(limit / 2);
              ceiling = Math.max(base, limit);
              lastFull = false;
              wentBack = true;
            } else if (c.op === 'send') {
              ahead.claimSent(c.free, c.requested);
              askedAhead = c.requested > c.free ? c.requested : 0;
              out = true;
              wentBack = false;
              dry = lastFull && c.free > 0 && model.length === 0;
            } else {
              const received = c.short ? Math.max(0, askedAhead - 1) : askedAhead;
              ahead.claimReturned(received);
              out = false;
              lastFull = askedAhead > 0 && received >= askedAhead;
              if (dry && lastFull && !wentBack) {
                ceiling = Math.min(max, Math.max(1, ceiling * 2));
                limit = ceiling;
              }
            }
            expect(ahead.size).toBe(model.length);
            expect(ahead.struck).toBe(model.filter((j) => (j.strikes ?? 0) > 0).length);
            expect(ahead.room).toBe(Math.max(0, limit - model.length));
            expect(limit).toBeLessThanOrEqual(max);
          }
        },
      ),
    );
  });
  it('grows while a free slot finds nothing held during a full claim, never past its maximum', () => {
    const ahead = new JobsAhead(4, 20);
    ahead.claimSent(2, 6);
    ahead.claimReturned(6);
    expect(ahead.room).toBe(4);
    // The held jobs ran out while the next claim was on its way, and it came back full: double.
    ahead.claimSent(0, 6);
    expect(ahead.next()).toBeUndefined();
    ahead.claimReturned(6);
    expect(ahead.room).toBe(8);
    for (let i = 0; i < 5; i++) {
      ahead.claimSent(2, 10);
      ahead.claimReturned(10);
    }
    expect(ahead.room).toBe(20);
    // A hand-back gives up what growth earned: in-time starts bring it back to the base only.
    ahead.wentStale();
    for (let i = 0; i < 30; i++) ahead.startedInTime();
    expect(ahead.room).toBe(10);
    ahead.wentStale();
    for (let i = 0; i < 30; i++) ahead.startedInTime();
    expect(ahead.room).toBe(5);
  });

  it('a claim for free slots only says nothing about the speed of held jobs', () => {
    const ahead = new JobsAhead(0, 20);
    for (let i = 0; i < 3; i++) {
      ahead.claimSent(1, 1);
      ahead.claimReturned(1);
    }
    expect(ahead.room).toBe(0);
  });

  it('does not grow when the claim was short (the queue is running out) or jobs were still held', () => {
    const ahead = new JobsAhead(4, 20);
    ahead.claimSent(2, 6);
    ahead.claimReturned(6);
    ahead.claimSent(2, 6);
    ahead.claimReturned(5);
    expect(ahead.room).toBe(4);
    ahead.add({ id: '1', token: 't', strikes: 0 } as unknown as ClaimedJob, 0);
    ahead.claimSent(2, 6);
    ahead.claimReturned(6);
    ahead.claimSent(2, 6);
    ahead.claimReturned(6);
    expect(ahead.room).toBe(3);
  });
});
