import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { describeStoreConformance } from '../durable/conformance.js';
import { connectShared, deletePrefix, uniquePrefix } from './shared-redis.js';

// The same conformance suite as the memory and SQLite stores, on the shared Redis with a fresh prefix per test.
let client: Redis;
beforeAll(async () => {
  client = await connectShared();
});
// The model-based test makes stores of its own: remember every prefix to delete them all.
const prefixes: string[] = [];
afterAll(async () => {
  for (const prefix of prefixes) await deletePrefix(client, prefix);
  client.disconnect();
});

describeStoreConformance(
  'redis',
  () => {
    const prefix = uniquePrefix('conf');
    prefixes.push(prefix);
    return new RedisStore({ client, prefix });
  },
  {
    cleanup: async (store: DurableStore) => {
      await deletePrefix(client, (store as RedisStore).prefix);
    },
  },
);
