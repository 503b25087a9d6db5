import { getEventListeners } from 'node:events';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BulkheadRejectedError, ConfigError } from '../../src/faults/errors.js';
import { bulkhead } from '../../src/policies/bulkhead.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** A call that runs until the test releases it. */
function gated() {
  const releases: Array<() => void> = [];
  const started: number[] = [];
  const call = (id: number) => () =>
    new Promise<number>((resolve) => {
      started.push(id);
      releases.push(() => resolve(id));
    });
  return { releases, started, call };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('bulkhead', () => {
  it('runs maxConcurrent at once, queues maxQueued in FIFO order, rejects beyond', async () => {
    const b = bulkhead({ maxConcurrent: 2, maxQueued: 2, name: 'streams' });
    const { releases, started, call } = gated();
    const rejected: unknown[] = [];
    b.events.on('rejected', (e) => rejected.push(e));
    const running = [1, 2, 3, 4].map((id) => b.execute(call(id)));
    const fifth = b.execute(call(5), { operation: 'stream' });
    await expect(fifth).rejects.toBeInstanceOf(BulkheadRejectedError);
    await expect(fifth).rejects.toMatchObject({
      maxConcurrent: 2,
      maxQueued: 2,
      category: 'unavailable',
      operation: { name: 'stream' },
    });
    await settle();
    expect(started).toEqual([1, 2]);
    expect(b.stats()).toMatchObject({ active: 2, queued: 2, rejections: 1 });
    expect(rejected).toEqual([
      { bulkhead: 'streams', active: 2, queued: 2, operation: { name: 'stream' } },
    ]);

    releases[1]!(); // 2 finishes: 3 (the oldest waiter) starts, not a newcomer
    await settle();
    const late = b.execute(call(6));
    await settle();
    expect(started).toEqual([1, 2, 3]);
    releases[0]!();
    await settle();
    expect(started).toEqual([1, 2, 3, 4]);
    for (const release of releases.slice(2)) release();
    await settle();
    releases[4]!();
    await expect(Promise.all([...running, late])).resolves.toEqual([1, 2, 3, 4, 6]);
    expect(b.stats()).toMatchObject({
      active: 0,
      queued: 0,
      executions: 6,
      successes: 5,
      rejections: 1,
    });
  });

  it('a queued caller can abort: it leaves the queue with the signal reason and its listener is removed', async () => {
    const b = bulkhead({ maxConcurrent: 1, maxQueued: 5 });
    const { releases, started, call } = gated();
    const first = b.execute(call(1));
    const controller = new AbortController();
    const queued = b.execute(call(2), { signal: controller.signal });
    const third = b.execute(call(3), { signal: controller.signal });
    await settle();
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(2);
    controller.abort(new Error('client went away'));
    await expect(queued).rejects.toThrow('client went away');
    await expect(third).rejects.toThrow('client went away');
    expect(b.stats().queued).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    releases[0]!();
    await first;
    expect(started).toEqual([1]);
    expect(b.stats().active).toBe(0);

    // Dequeued normally: the listener goes too.
    const long = new AbortController();
    const again = b.execute(call(4));
    const waiting = b.execute(call(5), { signal: long.signal });
    await settle();
    expect(getEventListeners(long.signal, 'abort')).toHaveLength(1);
    releases[1]!();
    await again;
    await settle();
    expect(getEventListeners(long.signal, 'abort')).toHaveLength(0);
    releases[2]!();
    await expect(waiting).resolves.toBe(5);
  });

  it('frees the slot when the call throws, and counts failures by category', async () => {
    const b = bulkhead({ maxConcurrent: 1 });
    await expect(
      b.execute(() => {
        throw Object.assign(new Error('reset'), { code: 'ECONNRESET' });
      }),
    ).rejects.toThrow('reset');
    await expect(b.execute(() => 'next')).resolves.toBe('next');
    expect(b.stats()).toMatchObject({ active: 0, failures: 1, failuresByCategory: { network: 1 } });
  });

  it.each([
    [{ maxConcurrent: 0 }, /maxConcurrent: 0/],
    [{ maxConcurrent: 2, maxQueued: -1 }, /maxQueued: -1/],
    [{}, /maxConcurrent: undefined/],
    [
      { maxConcurrent: 1, maxQueue: 3 },
      /Unknown option bulkhead\.maxQueue: 3 \(did you mean bulkhead\.maxQueued\?/,
    ],
  ])('%j is refused with a ConfigError', (options, message) => {
    expect(() => bulkhead(options as never)).toThrow(ConfigError);
    expect(() => bulkhead(options as never)).toThrow(message);
  });

  it('fast-check: never runs more than maxConcurrent nor queues more than maxQueued, whatever arrives, ends or aborts', async () => {
    const event = fc.oneof(
      fc.record({
        type: fc.constant('arrive' as const),
        duration: fc.integer({ min: 0, max: 50 }),
        abortAfter: fc.option(fc.integer({ min: 0, max: 60 })),
      }),
      fc.record({ type: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 30 }) }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 0, max: 4 }),
        fc.array(event, { maxLength: 60 }),
        async (maxConcurrent, maxQueued, events) => {
          const clock = new VirtualClock();
          const b = bulkhead({ maxConcurrent, maxQueued });
          let running = 0;
          let peak = 0;
          let peakQueued = 0;
          const calls: Promise<unknown>[] = [];
          const signals: AbortSignal[] = [];
          for (const e of events) {
            if (e.type === 'wait') {
              await clock.advance(e.ms);
              continue;
            }
            const controller = new AbortController();
            if (e.abortAfter !== null)
              clock.schedule(e.abortAfter, () => controller.abort(new Error('aborted')));
            signals.push(controller.signal);
            calls.push(
              b
                .execute(
                  async ({ signal }) => {
                    running++;
                    peak = Math.max(peak, running);
                    try {
                      await clock.sleep(e.duration, signal);
                    } finally {
                      running--;
                    }
                  },
                  { signal: controller.signal },
                )
                .catch((error) => error),
            );
            peakQueued = Math.max(peakQueued, b.stats().queued);
            expect(b.stats().active).toBeLessThanOrEqual(maxConcurrent);
          }
          await clock.runAll();
          await Promise.all(calls);
          expect(peak).toBeLessThanOrEqual(maxConcurrent);
          expect(peakQueued).toBeLessThanOrEqual(maxQueued);
          expect(b.stats()).toMatchObject({ active: 0, queued: 0 });
          for (const signal of signals) expect(getEventListeners(signal, 'abort')).toHaveLength(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
