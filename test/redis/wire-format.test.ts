import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { AttemptRecord } from '../../src/durable/store.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { useSharedRedis } from './suite.js';

/**
 * The compact script formats of the hot path: a claim reply packs each job's numbers in one
 * header string, and a settle passes a completion as two arguments among the seven-argument
 * outcomes of other kinds. These check the edges of both against what the store promises.
 */
describe('Redis store wire formats', () => {
  let client: Redis;
  const prefix = useSharedRedis('wire', (connected) => {
    client = connected;
  });
  const T = Date.UTC(2030, 0, 1);

  it('a claim returns every optional field, fractional priorities and any payload text intact', async () => {
    const store = new RedisStore({ client, prefix });
    const payload = JSON.stringify({ text: 'spaces and \n newlines, ünïcödé, "quotes" ' });
    const [a, b] = await store.enqueue(
      [
        {
          queue: 'w',
          payload,
          priority: 1.5,
          runAt: T - 10,
          idempotencyKey: 'key with spaces',
          maxAttempts: 7,
        },
        { queue: 'w', payload: '{}', priority: -2, runAt: T - 5 },
      ],
      T,
    );
    const first = await store.claim({
      queue: 'w',
      workerId: 'w 1',
      limit: 1,
      leaseMs: 1_000,
      now: T,
      maxStrikes: 3,
    });
    expect(
      await store.saveJobCheckpoint({ id: a!.id, token: first[0]!.token }, '{"at":"x y"}', T),
    ).toBe(true);
    await store.settle([{ id: a!.id, token: first[0]!.token, kind: 'release', refund: true }], T);
    const jobs = await store.claim({
      queue: 'w',
      workerId: 'w 1',
      limit: 10,
      leaseMs: 1_000,
      now: T + 1,
      maxStrikes: 3,
    });
    expect(jobs).toEqual([
      {
        id: a!.id,
        token: jobs[0]!.token,
        queue: 'w',
        payload,
        priority: 1.5,
        attempt: 1,
        strikes: 0,
        maxAttempts: 7,
        enqueuedAt: T,
        runAt: T,
        leaseUntil: T + 1_001,
        checkpoint: '{"at":"x y"}',
        idempotencyKey: 'key with spaces',
      },
      {
        id: b!.id,
        token: jobs[1]!.token,
        queue: 'w',
        payload: '{}',
        priority: -2,
        attempt: 1,
        strikes: 0,
        enqueuedAt: T,
        runAt: T - 5,
        leaseUntil: T + 1_001,
      },
    ]);
    await store.close();
  });

  it('a settle applies completions and other outcomes in the order given: the first outcome for a lease wins', async () => {
    const store = new RedisStore({ client, prefix });
    const ids = (
      await store.enqueue(
        [1, 2, 3, 4].map((n) => ({ queue: 's', payload: `{"n":${n}}`, priority: 0, runAt: T })),
        T,
      )
    ).map((r) => r.id);
    const claimed = await store.claim({
      queue: 's',
      workerId: 'w',
      limit: 4,
      leaseMs: 1_000,
      now: T,
      maxStrikes: 3,
    });
    const lease = (i: number) => ({ id: ids[i]!, token: claimed[i]!.token });
    const record: AttemptRecord = {
      attempt: 1,
      workerId: 'w',
      startedAt: T,
      durationMs: 1,
      outcome: 'retry',
      category: 'network',
      message: 'm',
    };
    const { lost } = await store.settle(
      [
        { ...lease(0), kind: 'complete' },
        { ...lease(0), kind: 'retry', runAt: T, record },
        { ...lease(1), kind: 'retry', runAt: T + 50, record },
        { ...lease(1), kind: 'complete' },
        { ...lease(2), kind: 'complete' },
        { ...lease(3), kind: 'release', refund: false },
        { ...lease(3), kind: 'complete' },
      ],
      T + 1,
    );
    expect(lost).toEqual([ids[0], ids[1], ids[3]]);
    expect((await store.getJob(ids[0]!))?.state).toBe('completed');
    expect(await store.getJob(ids[1]!)).toMatchObject({
      state: 'waiting',
      runAt: T + 50,
      history: [record],
    });
    expect((await store.getJob(ids[2]!))?.state).toBe('completed');
    expect(await store.getJob(ids[3]!)).toMatchObject({ state: 'waiting', history: [] });
    await store.close();
  });
});
