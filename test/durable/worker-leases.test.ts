import { afterEach, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import type { ClaimedJob } from '../../src/durable/store.js';
import { type JobContext, Worker } from '../../src/durable/worker.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { freezable } from './freezable-store.js';

/**
 * Leases across a frozen store (virtual time): a claim or renewal sent before the freeze is
 * answered after it, with a lease computed from the sender's `now`. No handler may start on a
 * lease that has ended, two workers may never run one job at once, and a claim the worker
 * never started costs the job nothing.
 */

let clock: VirtualClock;
const workers: Worker<unknown>[] = [];

afterEach(async () => {
  for (const worker of workers.splice(0)) {
    const stopped = worker.stop({ deadlineMs: 1_000 });
    let done = false;
    void stopped.then(() => (done = true));
    for (let i = 0; i < 400 && !done; i++) await clock.advance(50);
  }
});

async function until(done: () => boolean, maxMs = 60_000): Promise<void> {
  for (let t = 0; t <= maxMs; t += 10) {
    if (done()) return;
    await clock.advance(10);
  }
  throw new Error(`condition not reached within ${maxMs} ms of virtual time`);
}

interface Run {
  readonly job: string;
  readonly token: string;
  readonly worker: string;
  readonly attempt: number;
  readonly start: number;
  end: number | undefined;
}

/** `prefetch`: jobs each worker holds ahead of its free slots (the worker's default unless given). */
function setup(prefetch?: number) {
  clock = new VirtualClock();
  const memory = new MemoryStore();
  // The lease each claim was given, in the store's (wall-clock) frame.
  const leaseEnd = new Map<string, number>();
  const claim = memory.claim.bind(memory);
  memory.claim = async (request) => {
    const jobs: ClaimedJob[] = await claim(request);
    for (const job of jobs) leaseEnd.set(job.token, job.leaseUntil);
    return jobs;
  };
  const frozen = freezable(memory);
  const queue = new Queue<{ n: number }>(frozen.store, 'jobs', { clock });
  const runs: Run[] = [];
  const make = (name: string, workMs: number) => {
    const worker = new Worker(
      queue,
      async (_payload, ctx: JobContext) => {
        const run: Run = {
          job: ctx.job.id,
          token: ctx.job.token,
          worker: name,
          attempt: ctx.attempt,
          start: clock.wallTime(),
          end: undefined,
        };
        runs.push(run);
        await clock.sleep(workMs, ctx.signal).catch(() => undefined);
        run.end = clock.wallTime();
      },
      {
        clock,
        workerId: name,
        leaseMs: 1_000,
        pollMs: 100,
        concurrency: 4,
        ...(prefetch === undefined ? {} : { prefetch }),
      },
    );
    workers.push(worker as Worker<unknown>);
    return worker;
  };
  return { memory, frozen, queue, runs, leaseEnd, make };
}

function overlaps(runs: readonly Run[]): string[] {
  const found: string[] = [];
  for (const a of runs) {
    for (const b of runs) {
      if (a === b || a.job !== b.job || a.worker === b.worker) continue;
      if (a.start <= b.start && b.start < (a.end ?? Number.POSITIVE_INFINITY))
        found.push(`job ${a.job}: ${b.worker} started while ${a.worker} ran it`);
    }
  }
  return found;
}

describe('leases across a frozen store', () => {
  it('a claim answered after its lease ended is never started, and costs the job nothing (2 workers, lease 1 s, 2 s freeze)', async () => {
    // Claims only for free slots: jobs held ahead would start during the freeze (see below).
    const { memory, frozen, queue, runs, leaseEnd, make } = setup(0);
    await queue.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ payload: { n } })));
    const a = make('a', 300).start();
    const b = make('b', 300).start();
    await clock.advance(1);
    // Both workers' first claims are now waiting on the frozen store.
    frozen.freeze();
    await clock.advance(2_000);
    await frozen.thaw();
    await until(() => runs.filter((r) => r.end !== undefined).length >= 20);
    const counts = await queue.stats();
    expect(counts).toMatchObject({ completed: 20, waiting: 0, running: 0, dead: 0 });

    const late = runs.filter((r) => r.start >= leaseEnd.get(r.token)!);
    expect(late).toEqual([]);
    expect(overlaps(runs)).toEqual([]);
    // Every job ran once, as its first attempt; nothing was struck.
    expect(runs.map((r) => r.attempt)).toEqual(runs.map(() => 1));
    expect(runs).toHaveLength(20);
    for (let id = 1; id <= 20; id++) {
      const job = (await memory.getJob(String(id)))!;
      expect(job.history).toEqual([]);
      expect(job.attempts).toBe(1);
    }
    expect(a.summary().staleClaims + b.summary().staleClaims).toBeGreaterThan(0);
  });

  it('with jobs held ahead (prefetch 12): none starts on an ended lease, none runs twice at once, none is charged (2 s freeze)', async () => {
    const { memory, frozen, queue, runs, leaseEnd, make } = setup(12);
    await queue.enqueueMany(Array.from({ length: 20 }, (_, n) => ({ payload: { n } })));
    make('a', 300).start();
    make('b', 300).start();
    await clock.advance(1);
    frozen.freeze();
    await clock.advance(2_000);
    await frozen.thaw();
    for (let i = 0; i < 600 && (await queue.stats()).completed < 20; i++) await clock.advance(10);
    expect(await queue.stats()).toMatchObject({ completed: 20, waiting: 0, running: 0, dead: 0 });
    expect(runs.filter((r) => r.start >= leaseEnd.get(r.token)!)).toEqual([]);
    expect(overlaps(runs)).toEqual([]);
    // Held jobs that started during the freeze lost their leases and ran again, uncharged.
    expect(runs.filter((r) => r.attempt !== 1)).toEqual([]);
    for (let id = 1; id <= 20; id++) expect((await memory.getJob(String(id)))!.attempts).toBe(1);
  });

  it('a run whose renewal hangs is told to stop when its lease ends, not when the reply comes', async () => {
    const { frozen, queue } = setup();
    await queue.enqueue({ n: 1 });
    let abortedAt: number | undefined;
    let startedAt: number | undefined;
    const attempts: number[] = [];
    const worker = new Worker(
      queue,
      async (_p, ctx) => {
        attempts.push(ctx.attempt);
        if (attempts.length > 1) return;
        startedAt = clock.now();
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            abortedAt = clock.now();
            resolve();
          }),
        );
      },
      { clock, workerId: 'slow', leaseMs: 1_000, pollMs: 100 },
    );
    workers.push(worker as Worker<unknown>);
    worker.start();
    await until(() => startedAt !== undefined);
    frozen.freeze();
    await clock.advance(3_000);
    expect(abortedAt).toBeDefined();
    // The last renewal sent before the freeze (within 250 ms of it) ends its lease at most
    // 1,000 ms later; the heartbeat notices within one beat (250 ms).
    expect(abortedAt! - startedAt!).toBeLessThanOrEqual(250 + 1_000 + 250);
    expect(worker.summary().leasesLost).toBe(1);
    await frozen.thaw();
    // The handler returned after its signal aborted; nobody took the job meanwhile, so its
    // outcome (written fenced, only now that it has returned) applies: no strike, no retry.
    await until(() => worker.summary().processed === 1);
    expect(attempts).toEqual([1]);
    expect((await queue.store.getJob('1'))!).toMatchObject({
      state: 'completed',
      attempts: 1,
      history: [],
    });
  });

  it('a renewal that comes back after the lease it would extend has ended does not revive the run', async () => {
    const { memory, queue } = setup();
    await queue.enqueue({ n: 1 });
    // The store answers renewals 1,500 ms late (a slow network, not a frozen server).
    const renew = memory.renew.bind(memory);
    memory.renew = async (leases, leaseMs, now) => {
      await clock.sleep(1_500);
      return renew(leases, leaseMs, now);
    };
    let aborted = false;
    let started = false;
    const worker = new Worker(
      queue,
      async (_p, ctx) => {
        started = true;
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            aborted = true;
            resolve();
          }),
        );
      },
      // No second claim comes to take the job over: only the worker's own clock can end the run.
      { clock, workerId: 'late', leaseMs: 1_000, pollMs: 60_000, concurrency: 1 },
    );
    workers.push(worker as Worker<unknown>);
    worker.start();
    await until(() => started);
    await until(() => aborted, 5_000);
    expect(worker.summary().leasesLost).toBe(1);
  });
});

describe('clock jumps on a worker (virtual clock)', () => {
  it('wall-clock steps within the margin (leaseMs / 4) on one worker: no overlap, nothing lost, attempts stay 1', async () => {
    clock = new VirtualClock();
    const memory = new MemoryStore();
    const queue = new Queue<{ n: number }>(memory, 'jobs', { clock });
    await queue.enqueueMany(Array.from({ length: 300 }, (_, n) => ({ payload: { n } })));
    // Worker b's wall clock steps ahead and back by up to 200 ms (the margin is 250 ms).
    let skew = 0;
    const skewed = {
      now: () => clock.now(),
      wallTime: () => clock.wallTime() + skew,
      sleep: clock.sleep.bind(clock),
      schedule: clock.schedule.bind(clock),
    };
    const runs: { job: string; worker: string; start: number; end: number; attempt: number }[] = [];
    const make = (name: string, workerClock: typeof skewed | VirtualClock) => {
      const worker = new Worker(
        new Queue<{ n: number }>(memory, 'jobs', { clock: workerClock }),
        async (_p, ctx) => {
          const run = {
            job: ctx.job.id,
            worker: name,
            start: clock.now(),
            end: Number.POSITIVE_INFINITY,
            attempt: ctx.attempt,
          };
          runs.push(run);
          await clock.sleep(50 + Math.random() * 400, ctx.signal).catch(() => undefined);
          run.end = clock.now();
        },
        { clock: workerClock, workerId: name, leaseMs: 1_000, pollMs: 20, concurrency: 5 },
      );
      workers.push(worker as Worker<unknown>);
      return worker.start();
    };
    make('a', clock);
    make('b', skewed);
    for (let step = 1; step < 6_000 && (await queue.stats()).completed < 300; step++) {
      if (step % 37 === 0) skew = [200, -200, 0, 150, -150][Math.floor(step / 37) % 5]!;
      await clock.advance(10);
    }
    expect(await queue.stats()).toMatchObject({ completed: 300, running: 0, dead: 0 });
    const overlaps = runs.filter((a) =>
      runs.some((b) => b !== a && b.job === a.job && b.start <= a.start && a.start < b.end),
    );
    expect(overlaps).toEqual([]);
    expect(runs.filter((r) => r.attempt !== 1)).toEqual([]);
  });
});
