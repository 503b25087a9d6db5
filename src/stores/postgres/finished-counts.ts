/**
 * Completed and dead job counts per queue, kept by triggers on `jobs` (schema version 3), so
 * `stats()` and the dashboard's overview read a few rows instead of counting a million completed
 * jobs, and listing queues never scans the table.
 *
 * The triggers run once per statement, over its transition tables (the rows it changed): one
 * settle, requeue or prune of thousands of jobs adds one delta per queue and state, not one
 * update of a counter row per job (thousands of versions of one row in one transaction, which
 * PostgreSQL walks at every next update). A single counter row per queue would also be a hot row:
 * every settling transaction of the queue would wait for the previous one's commit. So each count
 * is spread over SLOTS rows chosen by the writing connection (`pg_backend_pid() % SLOTS`), and a
 * reader sums them. Statements that change no finished job (claims, renewals, enqueues) find
 * nothing to count and write nothing.
 */

const SLOTS = 16;

/** Adds the changes in `deltas` (rows of queue, state, delta) to this connection's slots. */
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
 * Version 3: the table, the triggers, and a backfill. The triggers are created before the
 * backfill counts: CREATE TRIGGER locks `jobs` against writes until the migration commits, so
 * no write falls between the count and the triggers.
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
