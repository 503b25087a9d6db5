import type { PreparedStatement } from './statements.js';

/**
 * Completed and dead job counts per queue in `faultline_finished_counts`, so `stats()` reads
 * two rows instead of counting a million completed jobs in an index (hundreds of ms).
 *
 * Every write of the store that moves jobs into, out of or between finished states (complete,
 * dead-letter, crash-loop recovery, requeue, prune, purge) adds its change to a `FinishedTally`
 * and writes it in the same transaction: the counts are exact, never an estimate, and a batch
 * of a thousand completions costs one counter update, not one per job. (Schema version 5 kept
 * them with row triggers; those cost every insert and update ~2 µs, even of jobs that never
 * touched a count, so version 6 drops them.) Rows that reach zero stay (one row per queue and
 * state).
 */

const TABLE = 'faultline_finished_counts';
const TRIGGERS = [
  'faultline_finished_insert',
  'faultline_finished_delete',
  'faultline_finished_leave',
  'faultline_finished_enter',
];

/** A finished state: 2 completed, 3 dead. */
export type FinishedState = 2 | 3;

/**
 * Schema version 5: the table, and a backfill from the jobs already stored (an existing store
 * migrates inside the migration's IMMEDIATE transaction, so no write is missed). Its triggers
 * are gone at version 6; a file migrating from 4 goes through both in one transaction.
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
  ];
}

/** Schema version 6: the store keeps the counts itself (see FinishedTally); the triggers go. */
export function dropFinishedCountTriggers(): readonly string[] {
  return TRIGGERS.map((name) => `DROP TRIGGER IF EXISTS ${name}`);
}

/** Adds `?3` to the count of (`?1` queue, `?2` state), creating the row when it is missing. */
export const BUMP_FINISHED_SQL = `INSERT INTO ${TABLE} (queue, state, count) VALUES (?, ?, ?)
  ON CONFLICT (queue, state) DO UPDATE SET count = count + excluded.count`;

/** Reads the completed and dead counts of one queue (missing rows read as zero). */
export const FINISHED_COUNTS_SQL = `SELECT
    coalesce((SELECT count FROM ${TABLE} WHERE queue = @queue AND state = 2), 0) AS completed,
    coalesce((SELECT count FROM ${TABLE} WHERE queue = @queue AND state = 3), 0) AS dead`;

/**
 * The changes to the finished counts of one write transaction, summed per queue and state and
 * written by `write` before the transaction commits.
 */
export class FinishedTally {
  private readonly deltas = new Map<string, Map<FinishedState, number>>();

  add(queue: string, state: FinishedState, delta: number): void {
    if (delta === 0) return;
    let states = this.deltas.get(queue);
    if (states === undefined) {
      states = new Map();
      this.deltas.set(queue, states);
    }
    states.set(state, (states.get(state) ?? 0) + delta);
  }

  /** Writes every non-zero change with `bump` (BUMP_FINISHED_SQL); call inside the transaction. */
  write(bump: PreparedStatement): void {
    for (const [queue, states] of this.deltas)
      for (const [state, delta] of states) if (delta !== 0) bump.run(queue, state, delta);
  }
}
