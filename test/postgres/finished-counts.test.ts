import { afterAll, describe, expect, it } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { migrationStatements, PostgresStore } from '../../src/stores/postgres/index.js';
import { dropSchema, sharedPool, uniqueSchema } from './shared-postgres.js';

const pool = sharedPool(8);
const schemas: string[] = [];
const fresh = (label: string) => {
  const schema = uniqueSchema(label);
  schemas.push(schema);
  return schema;
};
afterAll(async () => {
  for (const schema of schemas) await dropSchema(pool, schema);
  await pool.end();
});

const T = Date.UTC(2030, 0, 1);
const fault = { category: 'network' as const, message: 'reset', suggestions: [] };
const record = {
  attempt: 1,
  workerId: 'w',
  startedAt: T,
  durationMs: 1,
  outcome: 'dead' as const,
};

/** Claims up to `n` jobs of `queue` and completes them, or dead-letters them. */
async function finish(store: DurableStore, queue: string, n: number, dead: boolean) {
  const jobs = await store.claim({
    queue,
    workerId: 'w',
    limit: n,
    leaseMs: 60_000,
    now: T,
    maxStrikes: 3,
  });
  await store.settle(
    jobs.map((j) =>
      dead
        ? { kind: 'dead' as const, id: j.id, token: j.token, fault, record }
        : { kind: 'complete' as const, id: j.id, token: j.token },
    ),
    T,
  );
}

async function counted(schema: string, queue: string) {
  const { rows } = await pool.query(
    `SELECT count(*) FILTER (WHERE state = 2)::int AS completed, count(*) FILTER (WHERE state = 3)::int AS dead
     FROM "${schema}".jobs WHERE queue = $1`,
    [queue],
  );
  return rows[0] as { completed: number; dead: number };
}

describe('PostgreSQL finished counts', () => {
  it('migrates a version 2 schema with finished jobs: the counts are backfilled and kept from then on', async () => {
    const schema = fresh('cnt2');
    const all = migrationStatements(schema, 0);
    const v2 = all.slice(0, all.findIndex((statement) => statement.endsWith('VALUES (2)')) + 1);
    for (const statement of v2) await pool.query(statement);
    // What version 2 left: finished jobs and no counts.
    await pool.query(
      `INSERT INTO "${schema}".jobs (queue, state, payload, priority, run_at, enqueued_at, finished_at, fault)
       SELECT CASE WHEN n % 3 = 0 THEN 'a' ELSE 'b' END, CASE WHEN n % 4 = 0 THEN 3 ELSE 2 END, '{}', 0, 0, 0, ${T},
         CASE WHEN n % 4 = 0 THEN '{"category":"network","message":"reset","suggestions":[]}'::jsonb END
       FROM generate_series(1, 120) AS n`,
    );
    const store = await PostgresStore.open({ pool, schema, listen: false, databaseClock: false });
    for (const queue of ['a', 'b']) {
      const stats = await store.stats(queue, T);
      expect({ completed: stats.completed, dead: stats.dead }).toEqual(
        await counted(schema, queue),
      );
    }
    expect(await store.queues()).toEqual(['a', 'b']);
    const before = await store.stats('b', T);
    await store.requeueDead({ query: { queue: 'b' } }, { now: T });
    await finish(store, 'b', 10, false);
    await finish(store, 'b', 5, true);
    expect(await store.stats('b', T)).toMatchObject({
      completed: before.completed + 10,
      dead: 5,
      waiting: before.dead - 15,
    });
    await store.close();
  });

  it('stays exact with many connections settling, requeueing, purging and pruning at once', async () => {
    const schema = fresh('cntc');
    const stores = await Promise.all(
      Array.from({ length: 4 }, () =>
        PostgresStore.open({ pool, schema, listen: false, databaseClock: false }),
      ),
    );
    await stores[0]!.enqueue(
      Array.from({ length: 400 }, (_, i) => ({
        queue: i % 2 ? 'a' : 'b',
        payload: '{}',
        priority: 0,
        runAt: T,
      })),
      T,
    );
    await Promise.all(
      stores.map(async (store, i) => {
        for (let round = 0; round < 6; round++) {
          await finish(store, round % 2 ? 'a' : 'b', 12, (round + i) % 3 === 0);
          if (round === 3) await store.requeueDead({ query: { queue: 'a', limit: 5 } }, { now: T });
          if (round === 4) await store.purgeDead({ queue: 'b', keepNewest: 20 });
        }
      }),
    );
    await stores[1]!.prune(
      {
        completed: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: 30 },
        dead: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: Number.POSITIVE_INFINITY },
      },
      T,
    );
    for (const queue of ['a', 'b']) {
      const stats = await stores[2]!.stats(queue, T);
      const full = await counted(schema, queue);
      expect({ completed: stats.completed, dead: stats.dead }).toEqual(full);
      expect(full.completed).toBeGreaterThan(0);
    }
    for (const store of stores) await store.close();
  });
});
