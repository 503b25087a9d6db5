import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { StruckJobGate } from '../../src/durable/worker-struck.js';
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

describe('StruckJobGate', () => {
  type Step = { kind: 'claim'; held: number; claimed: number } | { kind: 'recorded' };
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('claim' as const),
      held: fc.integer({ min: 0, max: 2 }),
      claimed: fc.integer({ min: 0, max: 3 }),
    }),
    fc.constant({ kind: 'recorded' as const }),
  );

  it('agrees with a model: one struck job at a time, only after an outcome or an empty claim', () => {
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
          const max = gate.maxStruck(s.held);
          expect(max).toBe(s.held === 0 && (proven || nothingElse) ? 1 : 0);
          const again = gate.claimAgain(s.claimed, max, s.held);
          // Claim again at once only for an empty claim that held struck jobs back, once.
          const expected = s.claimed === 0 && max === 0 && s.held === 0 && !nothingElse;
          expect(again).toBe(expected);
          if (expected) nothingElse = true;
        }
      }),
      { numRuns: 300 },
    );
  });
});
