import type Database from 'better-sqlite3';
import { HISTORY_LIMIT } from '../../durable/store-rules.js';
import { BUMP_FINISHED_SQL, FINISHED_COUNTS_SQL } from './finished-counts.js';

/**
 * The part of better-sqlite3's Statement the store uses, named here so that declaration
 * files can be emitted (the library's own Statement type lives in an unexported namespace).
 */
export interface PreparedStatement {
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  /** Makes `get`/`all` return the first column's value instead of the row. */
  pluck(toggle?: boolean): PreparedStatement;
}

/**
 * Every statement the SQLite store runs on a hot path, prepared once. Fencing is in the
 * WHERE clause: a write about a running job applies only while `token` still matches.
 */
export function prepareStatements(db: Database.Database) {
  const p = (sql: string): PreparedStatement => db.prepare(sql);
  // Columns cleared whenever a job leaves the running state.
  const leaveRunning = 'token = NULL, worker_id = NULL, claimed_at = NULL, lease_until = NULL';
  const held = 'id = ? AND token = ? AND state = 1';
  const appendHistory = "history = json_insert(history, '$[#]', json(?))";
  const write = db.transaction(<T>(fn: () => T): T => fn());
  const read = db.transaction(<T>(fn: () => T): T => fn());
  return {
    /** Runs `fn` in a write transaction taken with BEGIN IMMEDIATE (no lock upgrade deadlocks). */
    tx: <T>(fn: () => T): T => write.immediate(fn) as T,
    /** Runs `fn` in a read transaction: one consistent snapshot. */
    read: <T>(fn: () => T): T => read.deferred(fn) as T,
    findByKey: p('SELECT id FROM faultline_jobs WHERE queue = ? AND idempotency_key = ?'),
    getPause: p('SELECT paused_until FROM faultline_queues WHERE name = ?'),
    setPause: p(
      'INSERT INTO faultline_queues (name, paused_until) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET paused_until = excluded.paused_until',
    ),
    expired: p(
      'SELECT id, strikes FROM faultline_jobs WHERE queue = ? AND state = 1 AND lease_until <= ?',
    ),
    // A crash costs a strike, not a plan attempt: the attempt count goes back by one.
    recoverWaiting: p(
      `UPDATE faultline_jobs SET state = 0, attempts = max(0, attempts - 1), lost_token = token,
         history = json_insert(history, '$[#]', json_object('attempt', attempts, 'workerId', coalesce(worker_id, ''),
           'startedAt', claimed_at, 'durationMs', lease_until - claimed_at, 'outcome', 'lease_lost')),
         ${leaveRunning}
       WHERE id = ?`,
    ),
    recoverDead: p(
      `UPDATE faultline_jobs SET state = 3, finished_at = ?, fault = ?, attempts = max(0, attempts - 1), lost_token = token,
         history = json_insert(history, '$[#]', json_object('attempt', attempts, 'workerId', coalesce(worker_id, ''),
           'startedAt', claimed_at, 'durationMs', lease_until - claimed_at, 'outcome', 'lease_lost')),
         ${leaveRunning}
       WHERE id = ?`,
    ),
    claim: p(
      `UPDATE faultline_jobs
       SET state = 1, token = @token, worker_id = @workerId, claimed_at = @now, lease_until = @leaseUntil, attempts = attempts + 1,
         strikes = strikes + 1
       WHERE id IN (SELECT id FROM faultline_jobs WHERE queue = @queue AND state = 0 AND run_at <= @now
         AND (strikes = 0 OR id IN (SELECT id FROM faultline_jobs WHERE queue = @queue AND state = 0 AND strikes > 0 AND run_at <= @now
           ORDER BY priority DESC, run_at, id LIMIT @maxStruck))
         ORDER BY priority DESC, run_at, id LIMIT @limit)
       RETURNING id, queue, payload, priority, attempts, strikes - 1 AS strikes, max_attempts, enqueued_at, run_at, lease_until, checkpoint,
         idempotency_key, token, headers`,
    ),
    renew: p(`UPDATE faultline_jobs SET lease_until = ? WHERE ${held}`),
    // Writes that finish jobs (or un-finish them) return their queue: the store counts them (finished-counts.ts).
    complete: p(
      `UPDATE faultline_jobs SET state = 2, finished_at = ?, strikes = 0, ${leaveRunning} WHERE ${held} RETURNING queue`,
    ),
    /** Completes many jobs claimed under one token in one statement; returns the ids it applied to. */
    completeMany: p(
      `UPDATE faultline_jobs SET state = 2, finished_at = ?, strikes = 0, ${leaveRunning}
       WHERE id IN (SELECT value FROM json_each(?)) AND token = ? AND state = 1 RETURNING id`,
    ).pluck(),
    queueOf: p('SELECT queue FROM faultline_jobs WHERE id = ?').pluck(),
    retry: p(
      `UPDATE faultline_jobs SET state = 0, run_at = ?, strikes = 0, lost_token = NULL, ${appendHistory}, ${leaveRunning} WHERE ${held}`,
    ),
    dead: p(
      `UPDATE faultline_jobs SET state = 3, finished_at = ?, fault = ?, strikes = 0, ${appendHistory}, ${leaveRunning} WHERE ${held}
       RETURNING queue`,
    ),
    release: p(
      `UPDATE faultline_jobs SET state = 0, run_at = @runAt, attempts = max(0, attempts - @refund), lost_token = NULL,
         strikes = CASE WHEN @unstarted THEN max(0, strikes - 1) ELSE 0 END,
         history = CASE WHEN @record IS NULL OR @unstarted THEN history ELSE json_insert(history, '$[#]', json(@record)) END, ${leaveRunning}
       WHERE id = @id AND token = @token AND state = 1`,
    ),
    saveCheckpoint: p(`UPDATE faultline_jobs SET checkpoint = ? WHERE ${held}`),
    /** A late outcome of the claim the last recovery took away: its worker lived, so its strike is taken back. */
    forgiveLostClaim: p(
      'UPDATE faultline_jobs SET strikes = max(0, strikes - 1), lost_token = NULL WHERE id = ? AND lost_token = ? AND state <= 1',
    ),
    /** Keeps the first attempt record and the newest HISTORY_LIMIT - 1 (see store-rules). */
    trimHistory: p(
      `UPDATE faultline_jobs SET history = (
         SELECT json_group_array(json(value)) FROM (
           SELECT value FROM json_each(faultline_jobs.history) WHERE key = 0 OR key > json_array_length(faultline_jobs.history) - ${HISTORY_LIMIT}
           ORDER BY key))
       WHERE id = ? AND json_array_length(history) > ${HISTORY_LIMIT}`,
    ),
    // Waiting and running read one partial index each; completed and dead are kept counts
    // (finished-counts.ts), so a million completed jobs cost one row, not an index count.
    stats: p(
      `SELECT w.waiting, w.delayed, w.oldest,
         (SELECT count(*) FROM faultline_jobs WHERE queue = @queue AND state = 1) AS running,
         f.completed, f.dead
       FROM (SELECT sum(run_at <= @now) AS waiting, sum(run_at > @now) AS delayed, min(CASE WHEN run_at <= @now THEN run_at END) AS oldest
             FROM faultline_jobs WHERE queue = @queue AND state = 0) AS w,
         (${FINISHED_COUNTS_SQL}) AS f`,
    ),
    /**
     * The queue names of one partial index, one index seek per name (a loose index scan), so
     * listing queues never reads every row.
     */
    queues: p(
      `WITH RECURSIVE
         waiting(name) AS (SELECT (SELECT queue FROM faultline_jobs WHERE state = 0 ORDER BY queue LIMIT 1)
           UNION ALL SELECT (SELECT queue FROM faultline_jobs WHERE state = 0 AND queue > waiting.name ORDER BY queue LIMIT 1) FROM waiting WHERE name IS NOT NULL),
         running(name) AS (SELECT (SELECT queue FROM faultline_jobs WHERE state = 1 ORDER BY queue LIMIT 1)
           UNION ALL SELECT (SELECT queue FROM faultline_jobs WHERE state = 1 AND queue > running.name ORDER BY queue LIMIT 1) FROM running WHERE name IS NOT NULL),
         finished(name) AS (SELECT (SELECT queue FROM faultline_jobs WHERE state >= 2 ORDER BY queue LIMIT 1)
           UNION ALL SELECT (SELECT queue FROM faultline_jobs WHERE state >= 2 AND queue > finished.name ORDER BY queue LIMIT 1) FROM finished WHERE name IS NOT NULL)
       SELECT name FROM waiting WHERE name IS NOT NULL UNION SELECT name FROM running WHERE name IS NOT NULL
       UNION SELECT name FROM finished WHERE name IS NOT NULL UNION SELECT name FROM faultline_queues ORDER BY name`,
    ),
    /** Live leases per queue and worker (running jobs are few: the lease index's rows). */
    leaseHolders: p(
      `SELECT queue, worker_id AS workerId, count(*) AS jobs FROM faultline_jobs
       WHERE state = 1 AND lease_until > ? GROUP BY queue, worker_id ORDER BY queue, worker_id`,
    ),
    getJob: p('SELECT * FROM faultline_jobs WHERE id = ?'),
    getState: p('SELECT state FROM faultline_jobs WHERE id = ?'),
    requeue: p(
      `UPDATE faultline_jobs SET state = 0, run_at = ?, attempts = 0, strikes = 0, lost_token = NULL, fault = NULL, finished_at = NULL WHERE id = ? AND state = 3
       RETURNING queue`,
    ),
    deleteDead: p('DELETE FROM faultline_jobs WHERE id = ? AND state = 3 RETURNING queue'),
    bumpFinished: p(BUMP_FINISHED_SQL),
    /** Queues holding finished jobs, by a loose index scan of the finished index (see `queues`). */
    finishedQueues: p(
      `WITH RECURSIVE finished(queue) AS (SELECT (SELECT queue FROM faultline_jobs WHERE state >= 2 ORDER BY queue LIMIT 1)
         UNION ALL SELECT (SELECT queue FROM faultline_jobs WHERE state >= 2 AND queue > finished.queue ORDER BY queue LIMIT 1) FROM finished WHERE queue IS NOT NULL)
       SELECT queue FROM finished WHERE queue IS NOT NULL`,
    ),
    // One state at a time, so the finished index gives a range on finished_at (queue = ?, state = ?).
    finishedPerBucket: p(
      `SELECT CAST((finished_at - @since) / @bucketMs AS INTEGER) AS bucket, count(*) AS count FROM faultline_jobs INDEXED BY faultline_jobs_finished
       WHERE queue = @queue AND state >= 2 AND state = @state AND finished_at >= @since AND finished_at < @until GROUP BY bucket`,
    ),
    pruneAge: p('DELETE FROM faultline_jobs WHERE queue = ? AND state = ? AND finished_at < ?'),
    pruneCount: p(
      `DELETE FROM faultline_jobs WHERE id IN (
         SELECT id FROM faultline_jobs WHERE queue = ? AND state = ? ORDER BY finished_at DESC, id DESC LIMIT -1 OFFSET ?)`,
    ),
    getCheckpoint: p('SELECT key, value, updated_at FROM faultline_checkpoints WHERE key = ?'),
    putCheckpoint: p(
      'INSERT INTO faultline_checkpoints (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at',
    ),
    deleteCheckpoint: p('DELETE FROM faultline_checkpoints WHERE key = ?'),
    listCheckpoints: p(
      'SELECT key, value, updated_at FROM faultline_checkpoints WHERE substr(key, 1, ?) = ? ORDER BY key',
    ),
    ping: p('SELECT 1'),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
