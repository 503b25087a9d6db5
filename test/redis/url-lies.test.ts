import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/index.js';
import { ConfigError } from '../../src/faults/errors.js';
import { classify } from '../../src/faults/classify.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { connectShared, deletePrefix, SHARED_REDIS_URL, uniquePrefix } from './shared-redis.js';
import type { Redis } from 'ioredis';

/** Store URLs that used to "work" while doing something else than asked. */
describe('Redis store URLs that lie', () => {
  let shared: Redis;
  const prefix = uniquePrefix('lies');
  beforeAll(async () => {
    shared = await connectShared();
  });
  afterAll(async () => {
    await deletePrefix(shared, prefix);
    shared.disconnect();
  });

  it('a database the server does not have is an error naming it, and nothing lands in database 0', async () => {
    const databases = Number(((await shared.config('GET', 'databases')) as string[])[1]);
    const store = new RedisStore({ url: `${SHARED_REDIS_URL}/${databases + 83}`, prefix });
    try {
      const queue = new Queue(store, 'q');
      const health = await queue.health();
      expect(health.status).toBe('unhealthy');
      const error = (health as { error: unknown }).error as ConfigError;
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toContain(`database ${databases + 83} does not exist`);
      expect(error.message).toContain(`the server has ${databases} (0 to ${databases - 1})`);
      expect(classify(error)).toMatchObject({ category: 'validation', retryable: false });
      await expect(queue.enqueue({ n: 1 })).rejects.toBeInstanceOf(ConfigError);
      const [, keys] = await shared.scan('0', 'MATCH', `{${prefix}*`, 'COUNT', 10_000);
      expect(keys).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('a database the server has works', async () => {
    const store = new RedisStore({ url: `${SHARED_REDIS_URL}/0`, prefix });
    try {
      expect((await new Queue(store, 'q').health()).status).toBe('healthy');
    } finally {
      await store.close();
    }
  });

  it.each([
    ['redis://', /with a host/],
    ['redis://:pw@/0', /with a host|a valid URL/],
    ['redis://127.0.0.1:6379/abc', /a database number/],
    ['redis://127.0.0.1:70000', /port from 1 to 65535/],
  ])('%s is a ConfigError naming url', (url, expected) => {
    let error: unknown;
    try {
      new RedisStore({ url });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).option).toBe('url');
    expect((error as Error).message).toMatch(expected);
    expect((error as Error).message).not.toContain('pw');
  });

  it('accepts a URL string, as SqliteStore accepts a path', async () => {
    const store = new RedisStore(SHARED_REDIS_URL);
    try {
      await expect(store.ping()).resolves.toBeUndefined();
      expect(String(store)).toContain('127.0.0.1');
    } finally {
      await store.close();
    }
    expect(() => new RedisStore('http://x')).toThrow(ConfigError);
  });
});
