/**
 * Fills stores for bench/dashboard.ts. SQLite: rows inserted directly, exactly as the store's
 * settle statements leave completed jobs and dead letters (through the API, a million jobs would
 * take minutes). Redis: through the store's own scripts (enqueue, claim, settle), so the
 * per-category dead-letter sets are the store's own.
 */
import Database from 'better-sqlite3';
import type { DurableStore, FaultSummary } from '../src/durable/store.js';
import type { FaultCategory } from '../src/faults/fault.js';
import { SqliteStore } from '../src/stores/sqlite/sqlite-store.js';

export interface FillPlan {
  readonly completed: number;
  readonly dead: number;
  /** Completed jobs finish evenly over this many ms before `now`. */
  readonly completedOverMs: number;
  /** Dead letters die evenly over this many ms before `now`. */
  readonly deadOverMs: number;
  readonly now: number;
}

export const QUEUES = ['crawl', 'upload', 'email'] as const;

/** Categories of the dead letters: `auth` has exactly 10,000 of 100,000 (the requeue case). */
export function categoryOf(i: number, dead: number): FaultCategory {
  if (i < dead / 10) return 'auth';
  const others: FaultCategory[] = [
    'rate_limit',
    'timeout',
    'validation',
    'permanent',
    'network',
    'unavailable',
  ];
  return others[i % others.length]!;
}

export function faultOf(i: number, dead: number): FaultSummary {
  const category = categoryOf(i, dead);
  return {
    category,
    message: `${category} failure of item ${i}: the remote side said no (request ${i * 7919})`,
    suggestions: ['Check it.'],
  };
}

function historyOf(i: number, deadAt: number, fault: FaultSummary): string {
  return JSON.stringify([
    {
      attempt: 1,
      workerId: `host:${i % 7}`,
      startedAt: deadAt - 5_000,
      durationMs: 120,
      outcome: 'retry',
      category: 'timeout',
      message: 'The operation timed out after 250 ms',
    },
    {
      attempt: 2,
      workerId: `host:${i % 7}`,
      startedAt: deadAt - 130,
      durationMs: 130,
      outcome: 'dead',
      category: fault.category,
      message: fault.message,
    },
  ]);
}

export async function fillSqlite(path: string, plan: FillPlan): Promise<void> {
  await new SqliteStore(path).close(); // creates the schema
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    `INSERT INTO faultline_jobs (queue, state, payload, priority, run_at, enqueued_at, attempts, finished_at, history, fault)
     VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
  );
  const fill = db.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      if (i < plan.completed) {
        const at =
          plan.now - Math.floor(((plan.completed - i) / plan.completed) * plan.completedOverMs);
        insert.run(QUEUES[i % 3], 2, `{"item":${i}}`, at - 1_000, at - 1_000, 1, at, '[]', null);
      } else {
        const d = i - plan.completed;
        const at = plan.now - Math.floor(((plan.dead - d) / plan.dead) * plan.deadOverMs);
        const fault = faultOf(d, plan.dead);
        insert.run(
          QUEUES[d % 3],
          3,
          JSON.stringify({ item: d, url: `https://example.com/items/${d}` }),
          at - 6_000,
          at - 6_000,
          2,
          at,
          historyOf(d, at, fault),
          JSON.stringify(fault),
        );
      }
    }
  });
  const total = plan.completed + plan.dead;
  for (let from = 0; from < total; from += 50_000) fill(from, Math.min(total, from + 50_000));
  // No ANALYZE: the store never runs it, so the planner works as it does for users.
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}

/**
 * Through the store API, in batches: enqueue, claim, settle. Finish times come from the settle
 * calls' `now`, spread like the SQLite fill.
 */
export async function fillThroughStore(
  store: DurableStore,
  plan: FillPlan,
  batch = 1_000,
): Promise<void> {
  const workerId = 'bench-filler';
  for (const [kind, count, overMs] of [
    ['complete', plan.completed, plan.completedOverMs],
    ['dead', plan.dead, plan.deadOverMs],
  ] as const) {
    for (let start = 0; start < count; start += batch) {
      const size = Math.min(batch, count - start);
      const at = plan.now - Math.floor(((count - start) / count) * overMs);
      for (const queue of QUEUES) {
        const jobs = Array.from({ length: size }, (_, k) => start + k)
          .filter((i) => QUEUES[i % 3] === queue)
          .map((i) => ({
            queue,
            payload: JSON.stringify({ item: i }),
            priority: 0,
            runAt: at - 6_000,
          }));
        if (jobs.length === 0) continue;
        await store.enqueue(jobs, at - 6_000);
        const claimed = await store.claim({
          queue,
          workerId,
          limit: jobs.length,
          leaseMs: 60_000,
          now: at - 130,
          maxStrikes: 5,
        });
        await store.settle(
          claimed.map((job) => {
            const i = JSON.parse(job.payload).item as number;
            if (kind === 'complete')
              return { id: job.id, token: job.token, kind: 'complete' as const };
            const fault = faultOf(i, plan.dead);
            return {
              id: job.id,
              token: job.token,
              kind: 'dead' as const,
              fault,
              record: {
                attempt: 1,
                workerId,
                startedAt: at - 130,
                durationMs: 130,
                outcome: 'dead' as const,
                category: fault.category,
                message: fault.message,
              },
            };
          }),
          at,
        );
      }
    }
  }
}

/**
 * PostgreSQL: rows inserted by one statement per kind on the server (generate_series), the same
 * rows as the SQLite fill, through the store's triggers (so the finished counts are the store's
 * own). Then ANALYZE, as autovacuum would do soon after such a load.
 */
export async function fillPostgres(
  pool: { query(text: string, values?: unknown[]): Promise<unknown> },
  schema: string,
  plan: FillPlan,
): Promise<void> {
  const jobs = `"${schema}".jobs`;
  const queue = (i: string) => `(ARRAY['crawl', 'upload', 'email'])[${i} % 3 + 1]`;
  await pool.query(
    `INSERT INTO ${jobs} (queue, state, payload, priority, run_at, enqueued_at, attempts, finished_at, history)
     SELECT ${queue('i')}, 2, '{"item":' || i || '}', 0, at - 1000, at - 1000, 1, at, '[]'
     FROM (SELECT i, $1::bigint - floor(($2::bigint - i)::float8 / $2 * $3)::bigint AS at
           FROM generate_series(0, $2::bigint - 1) AS i) c`,
    [plan.now, plan.completed, plan.completedOverMs],
  );
  const category = `CASE WHEN d < $2::bigint / 10 THEN 'auth'
      ELSE (ARRAY['rate_limit', 'timeout', 'validation', 'permanent', 'network', 'unavailable'])[d % 6 + 1] END`;
  await pool.query(
    `INSERT INTO ${jobs} (queue, state, payload, priority, run_at, enqueued_at, attempts, finished_at, history, fault)
     SELECT ${queue('d')}, 3, json_build_object('item', d, 'url', 'https://example.com/items/' || d)::text, 0,
       at - 6000, at - 6000, 2, at,
       jsonb_build_array(
         jsonb_build_object('attempt', 1, 'workerId', 'host:' || d % 7, 'startedAt', at - 5000, 'durationMs', 120,
           'outcome', 'retry', 'category', 'timeout', 'message', 'The operation timed out after 250 ms'),
         jsonb_build_object('attempt', 2, 'workerId', 'host:' || d % 7, 'startedAt', at - 130, 'durationMs', 130,
           'outcome', 'dead', 'category', cat, 'message', msg)),
       jsonb_build_object('category', cat, 'message', msg, 'suggestions', jsonb_build_array('Check it.'))
     FROM (SELECT d, at, cat, cat || ' failure of item ' || d || ': the remote side said no (request ' || d * 7919 || ')' AS msg
           FROM (SELECT d, $1::bigint - floor(($2::bigint - d)::float8 / $2 * $3)::bigint AS at, ${category} AS cat
                 FROM generate_series(0, $2::bigint - 1) AS d) x) y`,
    [plan.now, plan.dead, plan.deadOverMs],
  );
  await pool.query(`ANALYZE ${jobs}`);
}
