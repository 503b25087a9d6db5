import { afterAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { Fleet } from './fleet.js';
import { PrivateServer } from './private-server.js';
import { dropSchema, SHARED_POSTGRES_URL, sharedPool, uniqueSchema } from './shared-postgres.js';

/**
 * The workers' connections break mid-run: the server kills them (pg_terminate_backend), the
 * server freezes (SIGSTOP) and thaws, the server restarts. Two worker processes keep going,
 * reconnect, and every job completes: 0 lost, none dead-lettered, none ran in two workers at once
 * (a job whose lease ran out while the server was away may run again: at-least-once).
 * Freezing and restarting happen on a private cluster; the shared server only sees terminations
 * of this test's own connections.
 */
const JOBS = 1_500;

async function runUntilDone(
  url: string,
  schema: string,
  appName: string,
  fault: (fleet: Fleet, done: () => Promise<number>) => Promise<number>,
) {
  const store = await PostgresStore.open({
    connectionString: url,
    schema,
    listen: false,
    poolOptions: { max: 2, query_timeout: 3_000 },
  });
  const queue = new Queue<{ n: number }>(store, 'faults');
  await queue.enqueueMany(Array.from({ length: JOBS }, (_, n) => ({ payload: { n } })));
  const fleet = new Fleet({
    PG_URL: url,
    SCHEMA: schema,
    QUEUE: 'faults',
    CONCURRENCY: '8',
    LEASE_MS: '2000',
    WORK_MS: '20',
    APP_NAME: appName,
    QUERY_TIMEOUT_MS: '2000',
  });
  fleet.spawn();
  fleet.spawn();
  const completed = async () => {
    try {
      return (await queue.stats()).completed;
    } catch {
      return -1; // the server is frozen or restarting
    }
  };
  try {
    const faults = await fault(fleet, completed);
    for (let i = 0; i < 3_000 && (await completed()) < JOBS; i++) await fleet.progress();
    expect(await queue.stats()).toMatchObject({
      waiting: 0,
      delayed: 0,
      running: 0,
      dead: 0,
      completed: JOBS,
    });
    // Throws if a job ran in two workers at once. Re-runs are allowed: a lease that expired while
    // the server was away hands its job to another worker (at-least-once).
    const { reruns } = fleet.audit();
    expect(fleet.runs.size).toBe(JOBS);
    console.log(`${appName}: ${JOBS} jobs completed, 0 lost, ${reruns} re-runs`);
    return faults;
  } finally {
    await fleet.stopAll();
    await store.close();
  }
}

/** Waits until the workers have completed `count` more jobs than `from`. */
async function progressed(
  fleet: Fleet,
  completed: () => Promise<number>,
  from: number,
  count: number,
): Promise<number> {
  for (let i = 0; i < 3_000; i++) {
    const now = await completed();
    if (now >= from + count) return now;
    await fleet.progress();
  }
  throw new Error('the workers made no progress');
}

describe('PostgreSQL connection faults', () => {
  const pool = sharedPool(2);
  const schema = uniqueSchema('conn');
  let server: PrivateServer | undefined;
  afterAll(async () => {
    server?.destroy();
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('pg_terminate_backend of every worker connection, five times mid-run: they reconnect, 0 lost', async () => {
    const appName = `ft-${schema}`.slice(0, 60);
    const terminations = await runUntilDone(
      SHARED_POSTGRES_URL,
      schema,
      appName,
      async (fleet, completed) => {
        let at = await progressed(fleet, completed, 0, 1);
        let terminated = 0;
        for (let round = 0; round < 5; round++) {
          at = await progressed(fleet, completed, at, 100);
          const { rowCount } = await pool.query(
            'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1',
            [appName],
          );
          terminated += rowCount ?? 0;
        }
        return terminated;
      },
    );
    expect(terminations).toBeGreaterThanOrEqual(5);
  }, 180_000);

  it('a frozen server (SIGSTOP for 4 s) and a restarted server (immediate stop): 0 lost', async () => {
    server = await PrivateServer.create();
    const s = server;
    await runUntilDone(s.url, 'faultline', 'ft-private', async (fleet, completed) => {
      let at = await progressed(fleet, completed, 0, 100);
      s.signal('SIGSTOP');
      const frozenAt = Date.now();
      while (Date.now() - frozenAt < 4_000) await fleet.progress(500);
      s.signal('SIGCONT');
      at = await progressed(fleet, completed, at, 200);
      s.stop();
      const stoppedAt = Date.now();
      while (Date.now() - stoppedAt < 1_000) await fleet.progress(250);
      s.start();
      await progressed(fleet, completed, at, 200);
      return 2;
    });
  }, 240_000);
});
