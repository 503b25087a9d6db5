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
        await clock.sleep(workMs, ctx.signal).catch(() => undefined);
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
    );
    fc.assert(
      fc.property(fc.nat(20), fc.array(command, { maxLength: 80 }), (max, commands) => {
        const ahead = new JobsAhead(max);
        const model: ClaimedJob[] = [];
        let limit = max;
        let id = 0;
        for (const c of commands) {
          if (c.op === 'add') {
            const j = job(++id, c.strikes);
            ahead.add(j, 0);
            model.push(j);
          } else if (c.op === 'next') {
            expect(ahead.next()?.job).toBe(model.shift());
          } else if (c.op === 'takeAll') {
            expect(ahead.takeAll()).toEqual(model.splice(0));
          } else if (c.op === 'inTime') {
            ahead.startedInTime();
            limit = Math.min(max, limit + 1);
          } else {
            ahead.wentStale();
            limit = Math.floor(limit / 2);
          }
          expect(ahead.size).toBe(model.length);
          expect(ahead.struck).toBe(model.filter((j) => (j.strikes ?? 0) > 0).length);
          expect(ahead.room).toBe(Math.max(0, limit - model.length));
        }
      }),
    );
  });
});
