/**
 * Completed and dead job counts per queue, kept by row triggers on `jobs` (schema version 3), so
 * `stats()` and the dashboard's overview read a few rows instead of counting a million completed
 * jobs, and listing queues never scans the table.
 *
 * A single counter row per queue would be a hot row: every settling transaction of the queue
 * would wait for the previous one's commit to update it. So each count is spread over SLOTS rows
 * chosen by the writing connection (`pg_backend_pid() % SLOTS`): connections of one pool write
 * different rows, and a reader sums them. The triggers fire only when a job enters or leaves a
 * finished state (their WHEN clause), so claims and renewals never run them.
 */

const SLOTS = 16;

/** Adds `delta` to this connection's slot of (`queue`, `state`). */
function bump(s: string, queue: string, state: string, delta: 1 | -1): string {
  return `INSERT INTO ${s}.finished_counts AS c (queue, state, slot, count)
        VALUES (${queue}, ${state}, pg_backend_pid() % ${SLOTS}, ${delta})
        ON CONFLICT (queue, state, slot) DO UPDATE SET count = c.count + ${delta};`;
}

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
    `CREATE FUNCTION ${s}.count_finished() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF TG_OP <> 'INSERT' AND OLD.state >= 2 THEN
          ${bump(s, 'OLD.queue', 'OLD.state', -1)}
        END IF;
        IF TG_OP <> 'DELETE' AND NEW.state >= 2 THEN
          ${bump(s, 'NEW.queue', 'NEW.state', 1)}
        END IF;
        RETURN NULL;
      END
      $$`,
    `CREATE TRIGGER finished_insert AFTER INSERT ON ${s}.jobs FOR EACH ROW WHEN (NEW.state >= 2)
      EXECUTE FUNCTION ${s}.count_finished()`,
    `CREATE TRIGGER finished_delete AFTER DELETE ON ${s}.jobs FOR EACH ROW WHEN (OLD.state >= 2)
      EXECUTE FUNCTION ${s}.count_finished()`,
    `CREATE TRIGGER finished_update AFTER UPDATE OF state, queue ON ${s}.jobs FOR EACH ROW
      WHEN ((OLD.state >= 2 OR NEW.state >= 2) AND (OLD.state <> NEW.state OR OLD.queue <> NEW.queue))
      EXECUTE FUNCTION ${s}.count_finished()`,
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
