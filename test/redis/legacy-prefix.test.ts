import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { migrateLegacyPrefix } from '../../src/stores/redis/legacy-prefix.js';
import { systemClock } from '../../src/time/system-clock.js';
import { startRedisServer, type OwnRedisServer } from './redis-server.js';
import { connectShared, deletePrefix, uniquePrefix } from './shared-redis.js';

/**
 * Keys written by the code before the rename (commit 744aecd, test/fixtures/legacy-744aecd/
 * generate.ts, default prefix `lifeline`) are found by a store opened with the default prefix,
 * with every job, dead letter and checkpoint.
 */
const fixtures = fileURLToPath(new URL('../fixtures/legacy-744aecd/', import.meta.url));
interface DumpedKey {
  key: string;
  type: 'string' | 'hash' | 'set' | 'list' | 'zset';
  pttl: number;
  value: string | string[] | Record<string, string>;
}
const dump = JSON.parse(readFileSync(`${fixtures}redis-dump.json`, 'utf8')) as DumpedKey[];
const expected = JSON.parse(readFileSync(`${fixtures}redis-expected.json`, 'utf8')) as {
  readAt: number;
  queues: string[];
  stats: Record<string, unknown>;
  jobs: Record<string, unknown>;
  dead: unknown[];
  checkpoints: unknown[];
};

/** Writes the dumped keys back, with `{lifeline:` replaced by `{<prefix>:`. */
async function restore(client: Redis, prefix = 'lifeline'): Promise<void> {
  for (const entry of dump) {
    const key = `{${prefix}:${entry.key.slice('{lifeline:'.length)}`;
    if (entry.type === 'string') await client.set(key, entry.value as string);
    else if (entry.type === 'hash') await client.hset(key, entry.value as Record<string, string>);
    else if (entry.type === 'set') await client.sadd(key, ...(entry.value as string[]));
    else if (entry.type === 'list') await client.rpush(key, ...(entry.value as string[]));
    else await client.zadd(key, ...pairs(entry.value as string[]));
    if (entry.pttl > 0) await client.pexpire(key, entry.pttl);
  }
}

function pairs(withScores: string[]): string[] {
  const args: string[] = [];
  for (let i = 0; i < withScores.length; i += 2) args.push(withScores[i + 1]!, withScores[i]!);
  return args;
}

async function expectFixtureContent(store: DurableStore): Promise<void> {
  expect(await store.queues()).toEqual(expected.queues);
  for (const queue of expected.queues)
    expect(await store.stats(queue, expected.readAt)).toEqual(expected.stats[queue]);
  for (const [id, job] of Object.entries(expected.jobs))
    expect(await store.getJob(id)).toEqual(job);
  expect(await store.listDead()).toEqual(expected.dead);
  expect(await store.listCheckpoints()).toEqual(expected.checkpoints);
}

async function keysOf(client: Redis, pattern: string): Promise<string[]> {
  return (await client.keys(pattern)).sort();
}

describe('RedisStore on a private server holding a store from before the rename', () => {
  let server: OwnRedisServer;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    admin = new RedisStore({ url: server.url, prefix: 'admin' }).client;
  });
  afterAll(async () => {
    admin?.disconnect();
    await server?.stop();
  });

  it('reads the old keys in place with an explicit prefix "lifeline", then moves them on a default open', async () => {
    await restore(admin);
    const oldKeys = await keysOf(admin, '*');
    expect(oldKeys).toHaveLength(dump.length);

    const explicit = new RedisStore({ url: server.url, prefix: 'lifeline' });
    await expectFixtureContent(explicit);
    await explicit.close();
    expect(await keysOf(admin, '*')).toEqual(oldKeys);

    const store = new RedisStore({ url: server.url });
    await expectFixtureContent(store);
    expect(await keysOf(admin, '{lifeline:*')).toEqual([]);
    expect(await keysOf(admin, '*')).toEqual(
      oldKeys.map((key) => key.replace('{lifeline:', '{faultline:')).sort(),
    );
    // The moved store keeps working: its idempotency keys and sequence counters came along.
    const [again] = await store.enqueue(
      [{ queue: 'crawl', payload: '{}', priority: 0, runAt: 0, idempotencyKey: 'page-4' }],
      expected.readAt,
    );
    expect(again).toEqual({ id: 'crawl:4', created: false });
    const [fresh] = await store.enqueue(
      [{ queue: 'crawl', payload: '{}', priority: 0, runAt: 0 }],
      expected.readAt,
    );
    expect(Object.keys(expected.jobs)).not.toContain(fresh!.id);
    await store.close();
  });
});

describe('migrateLegacyPrefix on the shared server (unique prefixes)', () => {
  let client: Redis;
  const prefixes: string[] = [];
  beforeAll(async () => {
    client = await connectShared();
  });
  afterAll(async () => {
    for (const prefix of prefixes) await deletePrefix(client, prefix);
    client.disconnect();
  });

  function pair(): [string, string] {
    const from = uniquePrefix('legacy-old');
    const to = uniquePrefix('legacy-new');
    prefixes.push(from, to);
    return [from, to];
  }

  it('moves every key once when several processes open the store at the same time', async () => {
    const [from, to] = pair();
    await restore(client, from);
    const reports = await Promise.all(
      [1, 2, 3].map(() => migrateLegacyPrefix(client, systemClock, from, to)),
    );
    expect(reports.reduce((sum, r) => sum + r.renamed, 0)).toBe(dump.length);
    expect(reports.flatMap((r) => r.leftInPlace)).toEqual([]);
    expect(await keysOf(client, `{${from}*`)).toEqual([]);
    const store = new RedisStore({ client, prefix: to });
    await expectFixtureContent(store);
    await store.close();
    // Nothing left to move: the next open costs one EXISTS.
    expect(await migrateLegacyPrefix(client, systemClock, from, to)).toEqual({
      renamed: 0,
      leftInPlace: [],
    });
  });

  it('never overwrites a key that already exists under the new prefix', async () => {
    const [from, to] = pair();
    await restore(client, from);
    const taken = `{${to}:q:crawl}:j:000000000000001`;
    await client.hset(taken, { state: 'waiting', payload: 'newer' });
    await client.hset(`{${to}:ckpt}`, 'crawl:crawl', '1\n{"newer":true}');
    const report = await migrateLegacyPrefix(client, systemClock, from, to);
    expect(report.leftInPlace).toEqual([`{${from}:q:crawl}:j:000000000000001`]);
    expect(report.renamed).toBe(dump.length - 1);
    expect(await client.hget(taken, 'payload')).toBe('newer');
    expect(await client.hget(`{${to}:ckpt}`, 'crawl:crawl')).toBe('1\n{"newer":true}');
    expect(await client.hget(`{${to}:ckpt}`, 'upload:video-1')).toBe(
      '1790000000000\n{"parts":[1,2]}',
    );
    expect(await client.exists(`{${from}:q:crawl}:j:000000000000001`)).toBe(1);
  });
});
