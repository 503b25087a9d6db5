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

/** Every queue's kept counts (the slots summed) against a full count of `jobs`, and one queue's stats. */
async function exact(store: DurableStore, schema: string, queue: string, now: number) {
  const kept = await pool.query(
    `SELECT queue, state::int AS state, sum(count)::int AS n FROM "${schema}".finished_counts
     GROUP BY queue, state HAVING sum(count) <> 0 ORDER BY queue, state`,
  );
  const full = await pool.query(
    `SELECT queue, state::int AS state, count(*)::int AS n FROM "${schema}".jobs WHERE state >= 2
     GROUP BY queue, state ORDER BY queue, state`,
  );
  expect(kept.rows).toEqual(full.rows);
  const stats = await store.stats(queue, now);
  expect({ completed: stats.completed, dead: stats.dead }).toEqual(await counted(schema, queue));
}

/** The triggers of `jobs` that a schema created (PostgreSQL's internal ones left out). */
async function triggers(schema: string) {
  const { rows } = await pool.query(
    `SELECT tgname FROM pg_trigger WHERE tgrelid = '"${schema}".jobs'::regclass AND NOT tgisinternal
     ORDER BY tgname`,
  );
  return rows.map((r) => (r as { tgname: string }).tgname);
}

/**
 * Each write of the store that moves jobs into, out of or between finished states, on queues `a`
 * and `b`, each followed by a comparison with a full count. `others`: finished jobs of other
 * queues already there (the prunes take them too).
 */
async function everyWrite(store: DurableStore, schema: string, others = { completed: 0, dead: 0 }) {
  const beyond = (n: number, keep: number) => Math.max(0, n - keep);
  const add = (queue: string, n: number) =>
    store.enqueue(
      Array.from({ length: n }, () => ({ queue, payload: '{}', priority: 0, runAt: T })),
      T,
    );
  await add('a', 30);
  await add('b', 10);
  await finish(store, 'a', 5, false); // many completions in one settle
  await finish(store, 'a', 1, false);
  await finish(store, 'a', 6, true);
  await exact(store, schema, 'a', T);
  // One settle of mixed kinds over two queues: a completion and a dead letter per queue, a retry, a release.
  const claim = (queue: string) =>
    store.claim({ queue, workerId: 'w', limit: 2, leaseMs: 60_000, now: T, maxStrikes: 3 });
  const [a1, a2] = await claim('a');
  const [b1, b2] = await claim('b');
  await store.settle(
    [
      { kind: 'complete', id: a1!.id, token: a1!.token },
      { kind: 'dead', id: b1!.id, token: b1!.token, fault, record },
      { kind: 'retry', id: a2!.id, token: a2!.token, runAt: T, record },
      { kind: 'release', id: b2!.id, token: b2!.token, refund: true },
    ],
    T,
  );
  expect(await store.stats('b', T)).toMatchObject({ completed: 0, dead: 1 });
  await exact(store, schema, 'a', T);
  // The crash loop: claimed, never settled; the next claim after the lease finds them out of strikes.
  await store.claim({ queue: 'a', workerId: 'c', limit: 2, leaseMs: 5, now: T, maxStrikes: 1 });
  await store.claim({
    queue: 'a',
    workerId: 'c',
    limit: 0,
    leaseMs: 5,
    now: T + 10,
    maxStrikes: 1,
  });
  expect((await store.stats('a', T + 10)).dead).toBe(8);
  await exact(store, schema, 'a', T + 10);
  const [letter] = await store.listDead({ queue: 'a', limit: 1 });
  await store.requeueDead({ ids: [letter!.id] }, { now: T + 10 });
  await exact(store, schema, 'a', T + 10);
  expect(await store.purgeDead({ queue: 'a', keepNewest: 2 })).toBe(5);
  await exact(store, schema, 'a', T + 10);
  await store.requeueDead({ query: { queue: 'a' } }, { now: T + 10 });
  await exact(store, schema, 'a', T + 10);
  const byCount = { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: 2 };
  expect(await store.prune({ completed: byCount, dead: byCount }, T + 10)).toEqual({
    completed: 5 + beyond(others.completed, 2),
    dead: beyond(others.dead, 2),
  });
  await exact(store, schema, 'a', T + 10);
  await finish(store, 'b', 3, true);
  const byAge = { maxAgeMs: 5, maxCount: Number.POSITIVE_INFINITY };
  expect(await store.prune({ completed: byAge, dead: byAge }, T + 10)).toEqual({
    completed: 2 + Math.min(others.completed, 2),
    dead: 4 + Math.min(others.dead, 2),
  });
  await exact(store, schema, 'b', T + 10);
  expect(await store.stats('a', T + 10)).toMatchObject({ completed: 0, dead: 0 });
  expect(await store.stats('b', T + 10)).toMatchObject({ completed: 0, dead: 0 });
}

describe('PostgreSQL finished counts', () => {
  it('counts every kind of write that finishes or un-finishes jobs, without triggers', async () => {
    const schema = fresh('cnte');
    const store = await PostgresStore.open({ pool, schema, listen: false, databaseClock: false });
    expect(await triggers(schema)).toEqual([]);
    await everyWrite(store, schema);
    await store.close();
  });

  it('migrates a version 3 schema: its triggers go, and later writes count once', async () => {
    const schema = fresh('cnt3');
    const all = migrationStatements(schema, 0);
    const v3 = all.slice(0, all.findIndex((statement) => statement.endsWith('VALUES (3)')) + 1);
    for (const statement of v3) await pool.query(statement);
    expect(await triggers(schema)).toEqual([
      'finished_delete',
      'finished_insert',
      'finished_update',
    ]);
    // Finished jobs written under version 3, counted by its triggers.
    await pool.query(
      `INSERT INTO "${schema}".jobs (queue, state, payload, priority, run_at, enqueued_at, finished_at, fault)
       SELECT 'c', CASE WHEN n % 4 = 0 THEN 3 ELSE 2 END, '{}', 0, 0, 0, ${T},
         CASE WHEN n % 4 = 0 THEN '{"category":"network","message":"reset","suggestions":[]}'::jsonb END
       FROM generate_series(1, 40) AS n`,
    );
    const store = await PostgresStore.open({ pool, schema, listen: false, databaseClock: false });
    expect(await triggers(schema)).toEqual([]);
    const { rows } = await pool.query(
      `SELECT proname FROM pg_proc WHERE pronamespace = $1::regnamespace AND proname LIKE 'count_finished%'`,
      [schema],
    );
    expect(rows).toEqual([]);
    expect((await store.stats('c', T)).completed).toBe(30);
    await exact(store, schema, 'c', T);
    await everyWrite(store, schema, { completed: 30, dead: 10 });
    expect(await store.stats('c', T)).toMatchObject({ completed: 0, dead: 0 });
    await store.close();
  });

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
