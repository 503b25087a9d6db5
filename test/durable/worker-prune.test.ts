import { describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { schedulePrune } from '../../src/durable/worker-prune.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

describe('schedulePrune', () => {
  it('prunes every interval, counted from the end of the last prune, until cancelled', async () => {
    const clock = new VirtualClock();
    const started: number[] = [];
    const cancel = schedulePrune(
      clock,
      1_000,
      async () => {
        started.push(clock.now());
        await clock.sleep(300);
      },
      () => {},
    );
    await clock.advance(3_000);
    // 1,000; then 1,300 + 1,000; the next would start at 3,600.
    expect(started).toEqual([1_000, 2_300]);
    cancel();
    await clock.advance(10_000);
    expect(started).toHaveLength(2);
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports a failed prune and keeps pruning', async () => {
    const clock = new VirtualClock();
    const errors: unknown[] = [];
    let calls = 0;
    const cancel = schedulePrune(
      clock,
      1_000,
      async () => {
        calls++;
        throw new Error('store busy');
      },
      (error) => errors.push(error),
    );
    await clock.advance(3_500);
    expect(calls).toBe(3);
    expect(errors).toHaveLength(3);
    cancel();
  });

  it('never prunes with an interval of Infinity', async () => {
    const clock = new VirtualClock();
    const cancel = schedulePrune(
      clock,
      Number.POSITIVE_INFINITY,
      async () => {},
      () => {},
    );
    expect(clock.pendingTimers).toBe(0);
    cancel();
  });

  it('an aborted worker prunes no more, before anyone stops it', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'jobs', { clock });
    let prunes = 0;
    const prune = queue.prune.bind(queue);
    queue.prune = () => {
      prunes++;
      return prune();
    };
    await queue.enqueue({ n: 1 });
    const worker = new Worker<{ n: number }>(
      queue,
      () => {
        throw Object.assign(new Error('token revoked'), { category: 'auth' });
      },
      { clock, pruneEveryMs: 1_000 },
    ).start();
    for (let t = 0; t < 500 && !worker.summary().aborted; t += 10) await clock.advance(10);
    expect(worker.summary().aborted).toBe(true);
    await clock.advance(5_000);
    expect(prunes).toBe(0);
    const stopped = worker.stop({ deadlineMs: 1_000 });
    let done = false;
    void stopped.then(() => (done = true));
    for (let t = 0; t < 5_000 && !done; t += 50) await clock.advance(50);
    expect(done).toBe(true);
  });
});
