import { createRequire } from 'node:module';
import type * as Ioredis from 'ioredis';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { describeStoreConformance } from '../durable/conformance.js';
import { tempDir } from '../durable/temp-dir.js';
import {
  connectShared,
  deletePrefix,
  SHARED_REDIS_URL,
  uniquePrefix,
} from '../redis/shared-redis.js';

/**
 * The other ends of the peer ranges in package.json: the default devDependencies are
 * better-sqlite3 12 and ioredis 5; these run the store contract (without the long model-based
 * test) on better-sqlite3 11 and ioredis 6, installed as npm aliases and injected as `driver`.
 */
const require = createRequire(import.meta.url);
const betterSqlite11 = require('better-sqlite3-11') as typeof import('better-sqlite3');
const ioredis6 = require('ioredis6') as typeof Ioredis;

describe('the aliased drivers are the versions they claim', () => {
  it('better-sqlite3 11 and ioredis 6', () => {
    expect((require('better-sqlite3-11/package.json') as { version: string }).version).toMatch(
      /^11\./,
    );
    expect((require('ioredis6/package.json') as { version: string }).version).toMatch(/^6\./);
    expect((require('better-sqlite3/package.json') as { version: string }).version).toMatch(
      /^12\./,
    );
    expect((require('ioredis/package.json') as { version: string }).version).toMatch(/^5\./);
  });
});

const tmp = tempDir('faultline-peers-');
let n = 0;
afterAll(() => tmp.cleanup());
describeStoreConformance(
  'sqlite on better-sqlite3 11',
  () => new SqliteStore(tmp.path(`v11-${n++}.db`), { driver: betterSqlite11 }),
  { stateMachine: false },
);

let admin: Redis;
beforeAll(async () => {
  admin = await connectShared();
});
afterAll(async () => {
  admin.disconnect();
});
describeStoreConformance(
  'redis on ioredis 6',
  () => new RedisStore({ url: SHARED_REDIS_URL, prefix: uniquePrefix('io6'), driver: ioredis6 }),
  {
    stateMachine: false,
    cleanup: async (store: DurableStore) => {
      const redis = store as RedisStore;
      expect(redis.client).toBeInstanceOf(ioredis6.Redis);
      await deletePrefix(admin, redis.prefix);
    },
  },
);
