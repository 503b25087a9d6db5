/**
 * Completed and dead job counts per queue in `finished_counts`, so `stats()` and the dashboard's
 * overview read a few rows instead of counting a million completed jobs, and listing queues never
 * scans the table.
 *
 * Since schema version 4 the store's own statements keep them: each write that moves jobs into or
 * out of a finished state (settle, the claim function's crash-loop recovery, requeue, purge,
 * prune) returns the rows it changed from a data-modifying CTE and adds one delta per queue and
 * state in the same statement (`countFinished`), so the count commits or rolls back with the
 * write. Version 3 used statement triggers with transition tables instead; those made PostgreSQL
 * copy every row of every UPDATE of `jobs` (claims, renewals included) into tuplestores and run a
 * trigger per statement, which cost the queue's hot path more than counting where it happens.
 *
 * A single counter row per queue would be a hot row: every settling transaction of the queue
 * would wait for the previous one's commit. So each count is spread over SLOTS rows chosen by the
 * writing connection (`pg_backend_pid() % SLOTS`), and a reader sums them.
 */

const SLOTS = 16;

/**
 * A statement for a data-modifying CTE: adds `sign` per row of `rows` (a CTE or subquery with
 * `queue` and `state` columns) in a finished state to this connection's slots, one delta per
 * queue and state (in that order, so two writers lock counter rows in the same order).
 */
export function countFinished(s: string, rows: string, sign: 1 | -1): string {
  return `INSERT INTO ${s}.finished_counts AS c (queue, state, slot, count)
          SELECT queue, state, pg_backend_pid() % ${SLOTS}, ${sign === 1 ? '' : '-'}count(*) FROM ${rows} r
          WHERE state >= 2 GROUP BY queue, state ORDER BY queue, state
        ON CONFLICT (queue, state, slot) DO UPDATE SET count = c.count + excluded.count`;
}

/** Version 3: adds the changes in `deltas` (rows of queue, state, delta) to this connection's slots. */
function apply(s: string, deltas: string): string {
  return `INSERT INTO ${s}.finished_counts AS c (queue, state, slot, count)
          SELECT queue, state, pg_backend_pid() % ${SLOTS}, sum(delta) FROM (${deltas}) d
          GROUP BY queue, state HAVING sum(delta) <> 0
        ON CONFLICT (queue, state, slot) DO UPDATE SET count = c.count + excluded.count;`;
}

/** A trigger function that applies `deltas` and returns (statement triggers return nothing). */
function counter(s: string, name: string, deltas: string): string {
  return `CREATE FUNCTION ${s}.${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        ${apply(s, deltas)}
        RETURN NULL;
      END
      $$`;
}

const entered = 'SELECT queue, state, 1 AS delta FROM new_rows WHERE state >= 2';
const left = 'SELECT queue, state, -1 AS delta FROM old_rows WHERE state >= 2';

/**
 * Version 3 (as existing databases applied it; version 4 drops its triggers and functions): the
 * table, the triggers, and a backfill. The triggers are created before the backfill counts:
 * CREATE TRIGGER locks `jobs` against writes until the migration commits, so no write falls
 * between the count and the triggers.
 */
export function finishedCountsMigration(s: string): readonly string[] {
  return [
    `CREATE TABLE ${s}.finished_counts (
      queue TEXT NOT NULL,
      state SMALLINT NOT NULL,           -- 2 completed, 3 dead
      slot SMALLINT NOT NULL,
      count BIGINT NOT NULL,
      PRIMARY KEY (queue, state, slot)
    )`,
    counter(s, 'count_finished_insert', entered),
    counter(s, 'count_finished_delete', left),
    // A job that stays finished (a checkpoint cleared, say) counts -1 and +1: no change.
    counter(s, 'count_finished_update', `${left} UNION ALL ${entered}`),
    `CREATE TRIGGER finished_insert AFTER INSERT ON ${s}.jobs REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_finished_insert()`,
    `CREATE TRIGGER finished_delete AFTER DELETE ON ${s}.jobs REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_finished_delete()`,
    `CREATE TRIGGER finished_update AFTER UPDATE ON ${s}.jobs REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION ${s}.count_finished_update()`,
    `INSERT INTO ${s}.finished_counts (queue, state, slot, count)
      SELECT queue, state, 0, count(*) FROM ${s}.jobs WHERE state >= 2 GROUP BY queue, state`,
  ];
}

/**
 * Version 4: the store's statements count (statements.ts, and the claim function's recovery,
 * replaced by the same migration), so the triggers and their functions go. DROP TRIGGER locks
 * `jobs` until the migration commits: every write before it was counted by the triggers, every
 * write after it counts itself.
 */
export function dropFinishedCountTriggers(s: string): readonly string[] {
  const events = ['insert', 'delete', 'update'];
  return [
    ...events.map((e) => `DROP TRIGGER IF EXISTS finished_${e} ON ${s}.jobs`),
    ...events.map((e) => `DROP FUNCTION IF EXISTS ${s}.count_finished_${e}()`),
  ];
}

/** The statements that read the counts (and lean on them), for `buildStatements`. */
export function finishedCountStatements(s: string) {
  const jobs = `${s}.jobs`;
  return {
    /** Waiting, delayed and running from their partial indexes; completed and dead from the counts. */
    stats: `SELECT w.waiting, w.delayed, w.oldest,
        (SELECT count(*) FROM ${jobs} WHERE queue = $1 AND state = 1) AS running,
        coalesce((SELECT sum(count) FROM ${s}.finished_counts WHERE queue = $1 AND state = 2), 0) AS completed,
        coalesce((SELECT sum(count) FROM ${s}.finished_counts WHERE queue = $1 AND state = 3), 0) AS dead,
        (SELECT paused_until FROM ${s}.queues WHERE name = $1) AS paused_until
      FROM (SELECT count(*) FILTER (WHERE run_at <= $2) AS waiting, count(*) FILTER (WHERE run_at > $2) AS delayed,
              min(run_at) FILTER (WHERE run_at <= $2) AS oldest
            FROM ${jobs} WHERE queue = $1 AND state = 0) w`,
    /** Queue names: unfinished jobs from their partial indexes, finished ones from the counts. */
    queues: `SELECT name FROM (
        SELECT DISTINCT queue AS name FROM ${jobs} WHERE state = 0
        UNION SELECT DISTINCT queue FROM ${jobs} WHERE state = 1
        UNION SELECT queue FROM ${s}.finished_counts GROUP BY queue HAVING sum(count) > 0
        UNION SELECT name FROM ${s}.queues) n
      ORDER BY name COLLATE "C"`,
    /** Live leases per queue and worker (running jobs are few: the lease index's rows). */
    leaseHolders: `SELECT queue, worker_id AS "workerId", count(*)::int AS jobs FROM ${jobs}
      WHERE state = 1 AND lease_until > $1 GROUP BY queue, worker_id ORDER BY queue COLLATE "C", worker_id COLLATE "C"`,
  };
}
