/**
 * Completed and dead job counts per queue, kept by triggers on `faultline_jobs`, so `stats()`
 * reads two rows instead of counting a million completed jobs in an index (hundreds of ms).
 *
 * Every write that moves a job into, out of or between finished states (complete, dead-letter,
 * requeue, prune, purge) goes through the triggers, in the same transaction: the counts are
 * exact, never an estimate. Rows that reach zero stay (one row per queue and state).
 */

const TABLE = 'faultline_finished_counts';

/** Adds `delta` to the count of (`queue`, `state`), creating the row when it is missing. */
function bump(queue: string, state: string, delta: 1 | -1): string {
  return `INSERT INTO ${TABLE} (queue, state, count) VALUES (${queue}, ${state}, ${delta})
      ON CONFLICT (queue, state) DO UPDATE SET count = count + ${delta};`;
}

/**
 * Schema version 5: the table, its triggers, and a backfill from the jobs already stored (an
 * existing store migrates inside the migration's IMMEDIATE transaction, so no write is missed).
 */
export function finishedCountsMigration(): readonly string[] {
  return [
    `CREATE TABLE ${TABLE} (
      queue TEXT NOT NULL,
      state INTEGER NOT NULL,            -- 2 completed, 3 dead
      count INTEGER NOT NULL,
      PRIMARY KEY (queue, state)
    ) WITHOUT ROWID`,
    `INSERT INTO ${TABLE} (queue, state, count)
      SELECT queue, state, count(*) FROM faultline_jobs WHERE state >= 2 GROUP BY queue, state`,
    `CREATE TRIGGER faultline_finished_insert AFTER INSERT ON faultline_jobs WHEN NEW.state >= 2
      BEGIN ${bump('NEW.queue', 'NEW.state', 1)} END`,
    `CREATE TRIGGER faultline_finished_delete AFTER DELETE ON faultline_jobs WHEN OLD.state >= 2
      BEGIN ${bump('OLD.queue', 'OLD.state', -1)} END`,
    // Only updates that change the state (or queue) of a finished job touch the table.
    `CREATE TRIGGER faultline_finished_leave AFTER UPDATE OF state, queue ON faultline_jobs
      WHEN OLD.state >= 2 AND (NEW.state <> OLD.state OR NEW.queue <> OLD.queue)
      BEGIN ${bump('OLD.queue', 'OLD.state', -1)} END`,
    `CREATE TRIGGER faultline_finished_enter AFTER UPDATE OF state, queue ON faultline_jobs
      WHEN NEW.state >= 2 AND (NEW.state <> OLD.state OR NEW.queue <> OLD.queue)
      BEGIN ${bump('NEW.queue', 'NEW.state', 1)} END`,
  ];
}

/** Reads the completed and dead counts of one queue (missing rows read as zero). */
export const FINISHED_COUNTS_SQL = `SELECT
    coalesce((SELECT count FROM ${TABLE} WHERE queue = @queue AND state = 2), 0) AS completed,
    coalesce((SELECT count FROM ${TABLE} WHERE queue = @queue AND state = 3), 0) AS dead`;
