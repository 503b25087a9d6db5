import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { FaultSummary } from '../../src/durable/store.js';
import { queueKeys } from '../../src/stores/redis/keys.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { useSharedRedis } from './suite.js';

const T = Date.UTC(2030, 0, 1);

describe('Redis dead-letter message hash', () => {
  let client: Redis;
  const prefix = useSharedRedis('dmsg', (connected) => {
    client = connected;
  });

  /** Dead-letters one job per message; returns their ids in order. */
  async function deadLetters(
    store: RedisStore,
    queue: string,
    messages: readonly string[],
  ): Promise<string[]> {
    await store.enqueue(
      messages.map(() => ({ queue, payload: '{}', priority: 0, runAt: T })),
      T,
    );
    const jobs = await store.claim({
      queue,
      workerId: 'w',
      limit: messages.length,
      leaseMs: 1_000,
      now: T,
      maxStrikes: 3,
    });
    await store.settle(
      jobs.map((job, i) => {
        const fault: FaultSummary = { category: 'network', message: messages[i]!, suggestions: [] };
        const record = {
          attempt: 1,
          workerId: 'w',
          startedAt: T,
          durationMs: 1,
          outcome: 'dead' as const,
        };
        return { kind: 'dead' as const, id: job.id, token: job.token, fault, record };
      }),
      T,
    );
    return jobs.map((job) => job.id);
  }

  const messageKey = (queue: string) => `${queueKeys(prefix, queue).dead}:msg`;

  it('keeps one lower-cased message per dead letter, and none once it leaves', async () => {
    const store = new RedisStore({ client, prefix });
    const ids = await deadLetters(store, 'a', [
      'Connection RESET by peer',
      'Timeout <b>A</b>',
      'other',
    ]);
    const hash = await client.hgetall(messageKey('a'));
    expect(Object.values(hash).sort()).toEqual(
      ['connection reset by peer', 'other', 'timeout <b>a</b>'].sort(),
    );
    expect((await store.listDead({ text: 'RESET BY' })).map((d) => d.id)).toEqual([ids[0]]);

    await store.requeueDead({ ids: [ids[0]!] }, { now: T + 1 });
    expect(await client.hlen(messageKey('a'))).toBe(2);
    expect(await store.purgeDead({ text: 'timeout' })).toBe(1);
    expect(await client.hlen(messageKey('a'))).toBe(1);
    await store.prune(
      {
        completed: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: Number.POSITIVE_INFINITY },
        dead: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: 0 },
      },
      T + 2,
    );
    expect(await client.exists(messageKey('a'))).toBe(0);
    expect((await store.stats('a', T + 3)).dead).toBe(0);
  });

  it('still finds letters dead-lettered before the hash existed (their fault is read instead)', async () => {
    const store = new RedisStore({ client, prefix });
    const ids = await deadLetters(store, 'b', [
      'Disk full on /var',
      'quota exceeded',
      'disk FULL again',
    ]);
    // What an older faultline left: the dead letters without the message hash.
    await client.del(messageKey('b'));
    expect((await store.listDead({ text: 'disk full' })).map((d) => d.id).sort()).toEqual(
      [ids[0], ids[2]].sort(),
    );
    expect(await store.countDeadByCategory({ text: 'quota' })).toEqual([
      { category: 'network', count: 1 },
    ]);
    // A requeue by text moves exactly the matches back to waiting, in one pass.
    const requeued = await store.requeueDead({ query: { text: 'disk' } }, { now: T + 1 });
    expect(requeued.sort()).toEqual([ids[0], ids[2]].sort());
    expect(await store.stats('b', T + 1)).toMatchObject({ waiting: 2, dead: 1 });
    const back = await store.getJob(ids[0]!);
    expect(back).toMatchObject({ state: 'waiting', attempts: 0, runAt: T + 1 });
  });
});
