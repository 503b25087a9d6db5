import { afterAll } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { describeStoreConformance } from '../durable/conformance.js';
import { dropSchema, sharedPool, uniqueSchema } from './shared-postgres.js';

// The same conformance suite as the other stores, on the shared PostgreSQL with a fresh schema per test.
const pool = sharedPool(8);
afterAll(async () => {
  await pool.end();
});

describeStoreConformance(
  'postgres',
  () => PostgresStore.open({ pool, schema: uniqueSchema('conf'), listen: false }),
  {
    cleanup: async (store: DurableStore) => {
      await dropSchema(pool, (store as PostgresStore).schema);
    },
  },
);
