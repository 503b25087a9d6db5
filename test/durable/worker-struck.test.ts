import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import type { ClaimedJob } from '../../src/durable/store.js';
import { StruckJobGate, struckFirst } from '../../src/durable/worker-struck.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * A struck job (its last worker died, or its store refused that worker's outcome) is claimed
 * one at a time, and only by a worker that has had an outcome recorded itself or has nothing
 * else to do: a worker that is broken itself must not charge it another strike (issue 17: a
 * full disk made every restarted worker claim the same struck job and fail, until it was
 * dead-lettered as a crash loop without ever crashing anything).
 */

const LEASE_MS = 1_000;

async function withStruckJob(others: number) {
  const clock = new VirtualClock();
  const store = new MemoryStore();
  const queue = new Queue<{ name: string }>(store, 'q', { clock });
  const [struck] = await queue.enqueueMany([{ payload: { name: 'struck' } }]);
  // A worker claims it and dies: the lease expires, the next claim recovers it with a strike.
  await store.claim({
    queue: 'q',
    workerId: 'dead',
    limit: 1,
    leaseMs: LEASE_MS,
    now: clock.wallTime(),
    maxStrikes: 3,
  });
  await clock.advance(LEASE_MS + 1);
  await queue.enqueueMany(
    Array.from({ length: others }, (_, i) => ({ payload: { name: `other ${i}` } })),
  );
  return { clock, store, queue, struckId: struck!.id };
}

function startWorker(clock: VirtualClock, queue: Queue<{ name: string }>) {
  const started: { name: string; at: number }[] = [];
  const worker = new Worker(
    queue,
    (payload) => {
      started.push({ name: payload.name, at: clock.now() });
    },
    { clock, concurrency: 1, prefetch: 0, leaseMs: LEASE_MS, pollMs: 500 },
  );
  worker.start();
  return { worker, started };
}

async function advanceUntil(clock: VirtualClock, done: () => boolean) {
  for (let i = 0; i < 10_000 && !done(); i++) await clock.advance(1);
}

describe('struck jobs wait for a worker that works', () => {
  it('a fresh worker runs other jobs first, and the struck one once an outcome of its own is recorded', async () => {
    const { clock, queue } = await withStruckJob(2);
    const { worker, started } = startWorker(clock, queue);
    await advanceUntil(clock, () => started.length === 3);
    await worker.stop();
    // Without the gate the struck job (first in claim order) would have run first. The claim
    // after the first run goes out before its outcome is written (by design), so one more
    // fresh job runs before it.
    expect(started.map((s) => s.name)).toEqual(['other 0', 'other 1', 'struck']);
  });

  it('with nothing else waiting, a fresh worker takes the struck job at once (no poll wait)', async () => {
    const { clock, queue } = await withStruckJob(0);
    const t0 = clock.now();
    const { worker, started } = startWorker(clock, queue);
    await advanceUntil(clock, () => started.length === 1);
    await worker.stop();
    expect(started).toEqual([{ name: 'struck', at: t0 }]);
  });

  it('a worker whose store takes claims but refuses every outcome leaves the struck job alone while other jobs wait', async () => {
    const { clock, store, queue } = await withStruckJob(20);
    store.settle = async () => {
      throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    };
    const { worker, started } = startWorker(clock, queue);
    worker.events.on('error', () => {});
    await advanceUntil(clock, () => started.length >= 5);
    let stopped = false;
    void worker.stop({ deadlineMs: 100 }).then(() => (stopped = true));
    await advanceUntil(clock, () => stopped);
    expect(stopped).toBe(true);
    expect(started.length).toBeGreaterThanOrEqual(5);
    expect(started.map((s) => s.name)).not.toContain('struck');
  });
});

describe('a struck job is never held ahead', () => {
  it('it starts the moment the claim that took it returns, even when fresh jobs are held ahead', async () => {
    const { clock, store, queue, struckId } = await withStruckJob(12);
    const claimedAt = new Map<string, number>();
    const realClaim = store.claim.bind(store);
    store.claim = async (request) => {
      const jobs = await realClaim(request);
      for (const job of jobs) claimedAt.set(job.id, clock.now());
      return jobs;
    };
    const startedAt = new Map<string, number>();
    const worker = new Worker(
      queue,
      async (_payload, ctx) => {
        startedAt.set(ctx.job.id, clock.now());
        await clock.sleep(50);
      },
      { clock, concurrency: 2, prefetch: 4, leaseMs: LEASE_MS, pollMs: 500 },
    );
    worker.start();
    await advanceUntil(clock, () => startedAt.size === 13);
    let stopped = false;
    void worker.stop().then(() => (stopped = true));
    await advanceUntil(clock, () => stopped);
    expect(startedAt.size).toBe(13);
    // Fresh jobs were held ahead (started later than claimed); the struck one never was.
    expect([...startedAt].some(([id, at]) => at > claimedAt.get(id)!)).toBe(true);
    expect(startedAt.get(struckId)).toBe(claimedAt.get(struckId));
  });
});

describe('StruckJobGate', () => {
  type Step = { kind: 'claim'; held: number; free: number; claimed: number } | { kind: 'recorded' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('claim' as const),
      held: fc.integer({ min: 0, max: 2 }),
      free: fc.integer({ min: -1, max: 3 }),
      claimed: fc.integer({ min: 0, max: 3 }),
    }),
    fc.constant({ kind: 'recorded' as const }),
  );

  it('agrees with a model: one struck job at a time, into a free slot, after an outcome or an empty claim', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 40 }), (steps) => {
        const gate = new StruckJobGate();
        let proven = false;
        let nothingElse = false;
        for (const s of steps) {
          if (s.kind === 'recorded') {
            gate.recorded();
            proven = true;
            continue;
          }
          const room = s.held === 0 && s.free > 0;
          expect(gate.maxStruck(s.held, s.free)).toBe(room && (proven || nothingElse) ? 1 : 0);
          // Claim again at once only for an empty claim that the gate (not the slots) held back.
          const expected = s.claimed === 0 && room && !proven && !nothingElse;
          expect(gate.claimAgain(s.claimed)).toBe(expected);
          if (expected) nothingElse = true;
        }
      }),
      { numRuns: 300 },
    );
  });

  it('puts struck jobs first, keeping claim order otherwise', () => {
    const job = (id: string, strikes: number) => ({ id, strikes }) as unknown as ClaimedJob;
    const jobs = [job('a', 0), job('b', 1), job('c', 0), job('d', 2)];
    expect(struckFirst(jobs).map((j) => j.id)).toEqual(['b', 'd', 'a', 'c']);
    const none = [job('a', 0), job('c', 0)];
    expect(struckFirst(none)).toBe(none);
  });
});
