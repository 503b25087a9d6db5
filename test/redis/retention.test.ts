import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { useSharedRedis } from './suite.js';

describe('Redis store memory stays bounded', () => {
  let client: Redis;
  const prefix = useSharedRedis('ret', (connected) => {
    client = connected;
  });

  const keyCount = async () => {
    let cursor = '0';
    let count = 0;
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
      cursor = next;
      count += keys.length;
    } while (cursor !== '0');
    return count;
  };

  it('retention deletes finished jobs with their keys and idempotency entries', async () => {
    const store = new RedisStore({ client, prefix });
    const queue = new Queue<{ n: number }>(store, 'bounded', {
      retention: { completed: { maxCount: 50 }, dead: { maxCount: 10 } },
    });
    const now = Date.now();
    await queue.enqueueMany(
      Array.from({ length: 3_000 }, (_, n) => ({ payload: { n }, idempotencyKey: `k${n}` })),
    );
    for (;;) {
      const jobs = await store.claim({
        queue: 'bounded',
        workerId: 'w',
        limit: 500,
        leaseMs: 10_000,
        now,
        maxStrikes: 3,
      });
      if (jobs.length === 0) break;
      const fault = { category: 'validation' as const, message: 'bad', suggestions: [] };
      const record = {
        attempt: 1,
        workerId: 'w',
        startedAt: now,
        durationMs: 1,
        outcome: 'dead' as const,
      };
      await store.settle(
        jobs.map((job, i) =>
          i % 10 === 0
            ? { kind: 'dead' as const, ...job, fault, record }
            : { kind: 'complete' as const, ...job },
        ),
        now,
      );
    }
    const keysBefore = await keyCount();
    expect(keysBefore).toBeGreaterThan(3_000);
    // More than one prune batch (2,000) of completed jobs to delete: the script loops.
    expect(await queue.prune()).toEqual({ completed: 2_700 - 50, dead: 300 - 10 });
    expect(await queue.stats()).toMatchObject({ completed: 50, dead: 10, waiting: 0 });
    // 60 job hashes + the queue's sets and hashes + the registry: nothing else is left behind.
    expect(await keyCount()).toBeLessThanOrEqual(60 + 8);
    expect(await client.hlen(store['scripts']('bounded').keys.idempotency)).toBe(60);
    // A pruned job's idempotency key is free again.
    expect((await queue.enqueue({ n: 0 }, { idempotencyKey: 'k1' })).created).toBe(true);
  });
});
