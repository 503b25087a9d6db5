import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { DurableStore } from '../../src/durable/store.js';
import { SCHEMA_VERSION, SqliteStore } from '../../src/stores/sqlite/index.js';
import { tempDir } from './temp-dir.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const T = Date.UTC(2030, 0, 1);
const fault = { category: 'network' as const, message: 'reset', suggestions: [] };
const record = {
  attempt: 1,
  workerId: 'w',
  startedAt: T,
  durationMs: 1,
  outcome: 'dead' as const,
  category: 'network' as const,
  message: 'reset',
};

/** Claims up to `n` jobs of `queue` and completes them (or dead-letters them). */
async function finish(store: DurableStore, queue: string, n: number, dead: boolean, now: number) {
  const jobs = await store.claim({
    queue,
    workerId: 'w',
    limit: n,
    leaseMs: 1_000,
    now,
    maxStrikes: 3,
  });
  await store.settle(
    jobs.map((j) =>
      dead
        ? { kind: 'dead' as const, id: j.id, token: j.token, fault, record }
        : { kind: 'complete' as const, id: j.id, token: j.token },
    ),
    now,
  );
}

/** The counts as a full count over the jobs table, read through a second connection. */
function counted(file: string, queue: string): { completed: number; dead: number } {
  const db = new Database(file, { readonly: true });
  try {
    return db
      .prepare(
        'SELECT sum(state = 2) AS completed, sum(state = 3) AS dead FROM faultline_jobs WHERE queue = ?',
      )
      .get(queue) as { completed: number; dead: number };
  } finally {
    db.close();
  }
}

describe('SQLite finished counts', () => {
  it('backfills the counts when a store from schema version 4 is opened', async () => {
    const file = tmp.path('v4.db');
    const store = new SqliteStore(file);
    const jobs = Array.from({ length: 30 }, (_, i) => ({
      queue: i % 3 === 0 ? 'a' : 'b',
      payload: '{}',
      priority: 0,
      runAt: T,
    }));
    await store.enqueue(jobs, T);
    await finish(store, 'a', 4, false, T);
    await finish(store, 'a', 3, true, T);
    await finish(store, 'b', 12, false, T);
    await finish(store, 'b', 5, true, T);
    await store.close();
    // Turn the file back into what version 4 wrote: no counts table, no triggers.
    const db = new Database(file);
    db.exec(`DROP TABLE faultline_finished_counts;
      DELETE FROM faultline_schema_version WHERE version >= 5`);
    db.close();
    expect(SCHEMA_VERSION).toBe(6);

    const reopened = new SqliteStore(file);
    expect(await reopened.stats('a', T)).toMatchObject({ waiting: 3, completed: 4, dead: 3 });
    expect(await reopened.stats('b', T)).toMatchObject({ waiting: 3, completed: 12, dead: 5 });
    // Later moves keep the counts exact.
    await reopened.requeueDead({ query: { queue: 'b' } }, { now: T });
    await finish(reopened, 'b', 2, false, T);
    expect(await reopened.stats('b', T)).toMatchObject({ completed: 14, dead: 0 });
    await reopened.close();
    expect(counted(file, 'b')).toEqual({ completed: 14, dead: 0 });
  });

  it('drops the row triggers of schema version 5 and counts once per write from then on', async () => {
    const file = tmp.path('v5.db');
    const store = new SqliteStore(file);
    await store.enqueue(
      Array.from({ length: 10 }, () => ({ queue: 'a', payload: '{}', priority: 0, runAt: T })),
      T,
    );
    await finish(store, 'a', 3, false, T);
    await store.close();
    // What version 5 wrote: the same table, kept by row triggers.
    const db = new Database(file);
    db.exec(`DELETE FROM faultline_schema_version WHERE version = 6;
      CREATE TRIGGER faultline_finished_enter AFTER UPDATE OF state, queue ON faultline_jobs
        WHEN NEW.state >= 2 AND (NEW.state <> OLD.state OR NEW.queue <> OLD.queue)
        BEGIN INSERT INTO faultline_finished_counts (queue, state, count) VALUES (NEW.queue, NEW.state, 1)
          ON CONFLICT (queue, state) DO UPDATE SET count = count + 1; END`);
    db.close();

    const reopened = new SqliteStore(file);
    await finish(reopened, 'a', 4, false, T);
    await finish(reopened, 'a', 2, true, T);
    expect(await reopened.stats('a', T)).toMatchObject({ waiting: 1, completed: 7, dead: 2 });
    await reopened.close();
    const check = new Database(file, { readonly: true });
    const triggers = check.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'").all();
    check.close();
    expect(triggers).toEqual([]);
    expect(counted(file, 'a')).toEqual({ completed: 7, dead: 2 });
  });

  it('counts every kind of write that finishes or un-finishes jobs', async () => {
    const file = tmp.path('each.db');
    const store = new SqliteStore(file);
    const same = async (now: number) => {
      const stats = await store.stats('a', now);
      expect({ completed: stats.completed, dead: stats.dead }).toEqual(counted(file, 'a'));
    };
    await store.enqueue(
      Array.from({ length: 30 }, () => ({ queue: 'a', payload: '{}', priority: 0, runAt: T })),
      T,
    );
    await finish(store, 'a', 5, false, T); // one statement for many completions
    await finish(store, 'a', 1, false, T); // the single-completion statement
    await finish(store, 'a', 6, true, T);
    await same(T);
    await store.claim({ queue: 'a', workerId: 'c', limit: 2, leaseMs: 5, now: T, maxStrikes: 1 });
    await store.claim({
      queue: 'a',
      workerId: 'c',
      limit: 0,
      leaseMs: 5,
      now: T + 10,
      maxStrikes: 1,
    });
    expect((await store.stats('a', T + 10)).dead).toBe(8); // the crash loop
    await same(T + 10);
    const [letter] = await store.listDead({ queue: 'a', limit: 1 });
    await store.requeueDead({ ids: [letter!.id] }, { now: T + 10 });
    await same(T + 10);
    expect(await store.purgeDead({ queue: 'a', keepNewest: 2 })).toBe(5);
    await same(T + 10);
    await store.requeueDead({ query: { queue: 'a' } }, { now: T + 10 });
    await same(T + 10);
    const bound = { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: 2 };
    expect(await store.prune({ completed: bound, dead: bound }, T + 10)).toEqual({
      completed: 4,
      dead: 0,
    });
    await same(T + 10);
    await store.close();
  });

  it('keeps the counts equal to a full count through any mix of writes', async () => {
    type Step =
      | { kind: 'enqueue'; queue: string; n: number }
      | { kind: 'finish'; queue: string; n: number; dead: boolean }
      | { kind: 'requeue'; queue: string }
      | { kind: 'requeueOne'; queue: string }
      | { kind: 'crash'; queue: string; n: number }
      | { kind: 'purge'; queue: string; keepNewest: number }
      | { kind: 'prune'; maxCount: number };
    const queue = fc.constantFrom('a', 'b');
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.record({
        kind: fc.constant('enqueue' as const),
        queue,
        n: fc.integer({ min: 1, max: 6 }),
      }),
      fc.record({
        kind: fc.constant('finish' as const),
        queue,
        n: fc.integer({ min: 1, max: 4 }),
        dead: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('requeue' as const), queue }),
      fc.record({ kind: fc.constant('requeueOne' as const), queue }),
      // Claimed and never settled: the next claim after the lease recovers them, dead at once (maxStrikes 1).
      fc.record({ kind: fc.constant('crash' as const), queue, n: fc.integer({ min: 1, max: 3 }) }),
      fc.record({ kind: fc.constant('purge' as const), queue, keepNewest: fc.nat(3) }),
      fc.record({ kind: fc.constant('prune' as const), maxCount: fc.nat(5) }),
    );
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 25 }), async (steps) => {
        const file = tmp.path(`mix-${run++}.db`);
        const store = new SqliteStore(file);
        let now = T;
        try {
          for (const s of steps) {
            now += 10;
            if (s.kind === 'enqueue')
              await store.enqueue(
                Array.from({ length: s.n }, () => ({
                  queue: s.queue,
                  payload: '{}',
                  priority: 0,
                  runAt: now,
                })),
                now,
              );
            else if (s.kind === 'finish') await finish(store, s.queue, s.n, s.dead, now);
            else if (s.kind === 'requeue')
              await store.requeueDead({ query: { queue: s.queue } }, { now });
            else if (s.kind === 'requeueOne') {
              const [letter] = await store.listDead({ queue: s.queue, limit: 1 });
              if (letter) await store.requeueDead({ ids: [letter.id] }, { now });
            } else if (s.kind === 'crash') {
              await store.claim({
                queue: s.queue,
                workerId: 'c',
                limit: s.n,
                leaseMs: 5,
                now,
                maxStrikes: 1,
              });
              now += 10;
              await store.claim({
                queue: s.queue,
                workerId: 'c',
                limit: 0,
                leaseMs: 5,
                now,
                maxStrikes: 1,
              });
            } else if (s.kind === 'purge')
              await store.purgeDead({ queue: s.queue, keepNewest: s.keepNewest });
            else
              await store.prune(
                {
                  completed: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: s.maxCount },
                  dead: { maxAgeMs: Number.POSITIVE_INFINITY, maxCount: s.maxCount },
                },
                now,
              );
          }
          for (const q of ['a', 'b']) {
            const stats = await store.stats(q, now);
            const full = counted(file, q);
            expect({ completed: stats.completed, dead: stats.dead }).toEqual({
              completed: full.completed ?? 0,
              dead: full.dead ?? 0,
            });
          }
        } finally {
          await store.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});
