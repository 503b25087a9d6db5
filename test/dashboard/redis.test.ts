import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { RedisRateLimiter } from '../../src/stores/redis/rate-limiter.js';
import { RedisRetryBudget } from '../../src/stores/redis/retry-budget.js';
import { RedisCircuitBreaker } from '../../src/stores/redis/shared-circuit-breaker.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';
import { addDeadLetters } from './fixtures.js';
import { Client } from './http-client.js';
import { serve } from './serve.js';

// The same dashboard on the Redis store, plus what only Redis has: shared policy state.
let client: Redis;
const prefix = uniquePrefix('dash');
beforeAll(async () => {
  client = await connectShared();
});
afterAll(async () => {
  await deletePrefix(client, prefix);
  client.disconnect();
});

describe('dashboard on the Redis store', () => {
  it('lists, pages and requeues dead letters, and shows breakers, limiters and budgets', async () => {
    const store = new RedisStore({ client, prefix });
    const now = Date.now();
    const ids = await addDeadLetters(store, now, [
      { category: 'rate_limit', message: 'HTTP 429 one' },
      { category: 'validation', message: 'bad item', queue: 'upload' },
      { category: 'rate_limit', message: 'HTTP 429 two', queue: 'upload' },
      { category: 'rate_limit', message: 'HTTP 429 three' },
    ]);
    const subscriber = new Redis(SHARED_REDIS_URL);
    const breaker = new RedisCircuitBreaker({
      redis: client,
      subscriber,
      name: 'payments api',
      prefix,
      breaker: { trigger: { kind: 'consecutive', failures: 1 }, halfOpenAfter: 60_000 },
    });
    await breaker.ready();
    await breaker
      .execute(() => Promise.reject(Object.assign(new Error('down'), { code: 'ECONNRESET' })))
      .catch(() => undefined);
    // A full bucket is not stored (its key expires): this one refills slowly and is taken just before reading.
    const limiter = new RedisRateLimiter({ redis: client, name: 'search', prefix, rate: 0.1 });
    const budget = new RedisRetryBudget({ redis: client, name: 'outbound', prefix });
    await budget.recordRequest();
    await budget.tryRetry();

    const served = await serve(createDashboard({ store, pageSize: 3 }));
    try {
      const http = new Client(served.url);
      const list = await http.get('/dead');
      const first = [...list.text.matchAll(/<tr data-id="([^"]+)"/g)].map((m) => m[1]);
      expect(first).toEqual([ids[3], ids[2], ids[1]]);
      const next = /<a rel="next" href="([^"]+)"/.exec(list.text)![1]!.replace(/&amp;/g, '&');
      expect(
        [...(await http.get(next)).text.matchAll(/<tr data-id="([^"]+)"/g)].map((m) => m[1]),
      ).toEqual([ids[0]]);
      expect((await http.get(`/dead/${encodeURIComponent(ids[1]!)}`)).text).toContain('bad item');

      const preview = await http.get('/dead/preview?action=requeue&category=rate_limit&text=429');
      expect(preview.text).toContain('Dry run: <strong>3</strong>');
      const { action, fields } = Client.formOf(preview.text);
      expect((await http.post(action, fields)).headers.get('location')).toBe(
        '/dead?category=rate_limit&text=429&done=requeued&n=3&of=3',
      );
      expect(await store.countDeadByCategory()).toEqual([{ category: 'validation', count: 1 }]);

      await limiter.tryTake();
      const shared = await http.get('/shared');
      expect(shared.text).toContain('payments api');
      expect(shared.text).toMatch(
        /payments api<\/td><td><span class="cat cat-validation">open<\/span>/,
      );
      expect(shared.text).toContain('search');
      expect(shared.text).toContain('outbound');
    } finally {
      await served.close();
      await breaker.close();
      subscriber.disconnect();
    }
  });
});
