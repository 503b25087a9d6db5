import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { Fleet } from './fleet.js';
import { dropSchema, SHARED_POSTGRES_URL, sharedPool, uniqueSchema } from './shared-postgres.js';

/**
 * Four worker processes on one PostgreSQL schema; one of them is SIGKILLed at a random moment,
 * again and again (and restarted each time). At the end: every job completed, none lost, each
 * completion recorded once, no job ever ran in two workers at once, runs per job <= 1 + kills
 * that hit it.
 */
const WORKERS = 4;
const KILLS = 22;
const BATCH = 1_000;

describe('crash harness on PostgreSQL (4 worker processes, SIGKILL)', () => {
  const schema = uniqueSchema('crash');
  const pool = sharedPool(2);
  const fleet = new Fleet({
    PG_URL: SHARED_POSTGRES_URL,
    SCHEMA: schema,
    QUEUE: 'crash-jobs',
    CONCURRENCY: '8',
    LEASE_MS: '1000',
    WORK_MS: '60',
  });
  let store: PostgresStore | undefined;
  afterAll(async () => {
    await store?.close();
    for (const instance of fleet.instances) instance.child.kill('SIGKILL');
    await Promise.all(fleet.instances.map((i) => i.exited));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it(`loses nothing and never runs a job twice at once across ${KILLS} kills`, async () => {
    store = await PostgresStore.open({ pool, schema, listen: false });
    const queue = new Queue<{ n: number }>(store, 'crash-jobs');
    let jobs = 0;
    const enqueueBatch = async () => {
      await queue.enqueueMany(
        Array.from({ length: BATCH }, (_, i) => ({ payload: { n: jobs + i } })),
      );
      jobs += BATCH;
    };
    await enqueueBatch();

    const live = Array.from({ length: WORKERS }, () => fleet.spawn());
    let kills = 0;
    while (kills < KILLS) {
      // Kill a random worker that is running jobs, after it has started a random number of
      // further jobs: mid-run. (A freshly restarted worker takes a while to start under load.)
      const warm = live
        .map((instance, slot) => ({ instance, slot }))
        .filter(({ instance }) => instance.starts > 0);
      if (warm.length === 0) {
        await fleet.progress();
        continue;
      }
      const { instance: victim, slot } = warm[Math.floor(Math.random() * warm.length)]!;
      const target = victim.starts + 1 + Math.floor(Math.random() * 40);
      for (let heard = 0; victim.starts < target && heard < 5_000; heard++) {
        const stats = await queue.stats();
        if (stats.waiting + stats.delayed < BATCH / 4) await enqueueBatch();
        await fleet.progress();
      }
      await fleet.kill(victim);
      kills++;
      live[slot] = fleet.spawn();
    }
    for (;;) {
      const { completed, dead } = await queue.stats();
      if (completed + dead >= jobs) break;
      await fleet.progress();
    }
    expect(await queue.stats()).toMatchObject({
      waiting: 0,
      delayed: 0,
      running: 0,
      dead: 0,
      completed: jobs,
    });
    await fleet.stopAll();

    expect(fleet.runs.size).toBe(jobs);
    for (const count of fleet.completions.values()) expect(count).toBe(1);
    expect(fleet.completions.size).toBeGreaterThan(jobs * 0.9);
    const { reruns, overRun } = fleet.audit();
    expect(overRun).toEqual([]);
    expect(reruns).toBeGreaterThan(0);
    console.log(
      `postgres crash harness: ${jobs} jobs, ${kills} SIGKILLs, ${reruns} re-runs after kills, 0 lost`,
    );
  }, 240_000);
});
