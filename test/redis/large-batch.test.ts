import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { useSharedRedis } from './suite.js';

describe('Redis store with large batches', () => {
  let client: Redis;
  const prefix = useSharedRedis('big', (connected) => {
    client = connected;
  });

  it('enqueues 20,000 jobs in one atomic call (100,000 script arguments) and claims them in order', async () => {
    const store = new RedisStore({ client, prefix });
    const now = Date.UTC(2030, 0, 1);
    const results = await store.enqueue(
      Array.from({ length: 20_000 }, (_, n) => ({
        queue: 'big',
        payload: JSON.stringify({ n }),
        priority: n % 3,
        runAt: now,
      })),
      now,
    );
    expect(results).toHaveLength(20_000);
    expect(await store.stats('big', now)).toMatchObject({
      waiting: 20_000,
      oldestWaitingSince: now,
    });
    const claimed = await store.claim({
      queue: 'big',
      workerId: 'w',
      limit: 5_000,
      leaseMs: 1_000,
      now,
      maxStrikes: 3,
    });
    expect(claimed).toHaveLength(5_000);
    // Highest priority first, enqueue order within a priority.
    expect(claimed.every((job) => job.priority === 2)).toBe(true);
    const ns = claimed.map((job) => (JSON.parse(job.payload) as { n: number }).n);
    expect(ns).toEqual([...ns].sort((a, b) => a - b));
    const { lost } = await store.settle(
      claimed.map((job) => ({ kind: 'complete' as const, id: job.id, token: job.token })),
      now,
    );
    expect(lost).toEqual([]);
    expect(await store.stats('big', now)).toMatchObject({
      waiting: 15_000,
      running: 0,
      completed: 5_000,
    });
  });
});
