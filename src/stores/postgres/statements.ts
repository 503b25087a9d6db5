import { HISTORY_LIMIT } from '../../durable/store-rules.js';
import { countFinished, finishedCountStatements } from './finished-counts.js';
import { quoteIdent } from './schema.js';

/**
 * Every statement the PostgreSQL store runs, as text for one schema. Fencing is in the WHERE
 * clause: a write about a running job applies only while `token` still matches. Batches travel
 * as arrays (`unnest`), so a batch is one statement and one round trip whatever its size.
 * `pg_notify` runs inside the writing statement: PostgreSQL delivers it only if the transaction
 * commits, and folds duplicates within one transaction.
 */
export function buildStatements(schema: string) {
  const s = quoteIdent(schema);
  const jobs = `${s}.jobs`;
  const leaveRunning = 'token = NULL, worker_id = NULL, claimed_at = NULL, lease_until = NULL';
  /** A DELETE of jobs that counts its finished rows down and returns how many rows it removed. */
  const removing = (remove: string) => `WITH removed AS (${remove} RETURNING queue, state),
      counted AS (${countFinished(s, 'removed', -1)})
      SELECT count(*)::int AS removed FROM removed`;
  // Renewals and outcomes find their rows by primary key. A token is set exactly while a job runs
  // (the claim sets it with state 1, every way out clears it), so matching it is the running check:
  // a `state = 1` there would steer the planner to scan the lease index, all running jobs.
  // Batches join `unnest(...)` to `jobs` by id. On that join alone a custom plan (the first five
  // runs of a prepared statement on each connection) hashed a sequential scan of the whole table:
  // 17 ms instead of 4 for 200 jobs in a table of 20,000. The id range, read from the same array,
  // keeps every plan on the primary key.
  const idRange = (ids: string) =>
    `j.id BETWEEN (SELECT min(i) FROM unnest(${ids}::bigint[]) i) AND (SELECT max(i) FROM unnest(${ids}::bigint[]) i)`;
  return {
    /** The channel wake-ups travel on; its payload is the queue name. */
    channel: `faultline:${schema}`,
    enqueue: `WITH input AS (
        SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::int[], $6::text[], $9::text[])
          WITH ORDINALITY AS i(queue, payload, priority, run_at, max_attempts, idempotency_key, headers, n))
      INSERT INTO ${jobs} (queue, state, payload, priority, run_at, enqueued_at, max_attempts, idempotency_key, headers)
      SELECT queue, 0, payload, priority, run_at, $7, max_attempts, idempotency_key, headers FROM input ORDER BY n
      ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id::text AS id, queue, idempotency_key, CASE WHEN run_at <= $7 THEN pg_notify($8, queue)::text END AS notified`,
    /** `enqueue` for one job, without arrays: less to plan, the same parameters. */
    enqueueOne: `INSERT INTO ${jobs} (queue, state, payload, priority, run_at, enqueued_at, max_attempts, idempotency_key, headers)
      VALUES ($1, 0, $2, $3, $4, $7, $5, $6, $9)
      ON CONFLICT (queue, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
      RETURNING id::text AS id, queue, idempotency_key, CASE WHEN run_at <= $7::bigint THEN pg_notify($8, queue)::text END AS notified`,
    existingKeys: `SELECT j.id::text AS id, j.queue, j.idempotency_key FROM ${jobs} j
      JOIN unnest($1::text[], $2::text[]) AS k(queue, idempotency_key) ON j.queue = k.queue AND j.idempotency_key = k.idempotency_key`,
    claim: `SELECT id::text AS id, payload, priority, attempts, strikes, max_attempts, enqueued_at, run_at, lease_until, checkpoint,
        idempotency_key, headers
      FROM ${s}.claim($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, ${HISTORY_LIMIT})`,
    renew: `UPDATE ${jobs} j SET lease_until = CASE WHEN $5 THEN greatest($3::bigint, ${s}.now_ms()) ELSE $3::bigint END + $4::bigint FROM unnest($1::bigint[], $2::text[]) AS l(id, token)
      WHERE j.id = l.id AND j.token = l.token AND ${idRange('$1')} RETURNING j.id::text AS id, l.token`,
    /** Outcomes; completions and dead letters are counted in the same statement (finished-counts.ts). */
    settle: `WITH settled AS (UPDATE ${jobs} j SET
        state = CASE o.kind WHEN 'complete' THEN 2 WHEN 'dead' THEN 3 ELSE 0 END,
        run_at = CASE WHEN o.kind IN ('retry', 'release') THEN coalesce(o.run_at, $2) ELSE j.run_at END,
        finished_at = CASE WHEN o.kind IN ('complete', 'dead') THEN $2 END,
        fault = CASE WHEN o.kind = 'dead' THEN o.fault::jsonb ELSE j.fault END,
        attempts = CASE WHEN o.refund OR o.unstarted THEN greatest(0, j.attempts - 1) ELSE j.attempts END,
        history = CASE WHEN o.record IS NULL OR o.unstarted THEN j.history ELSE ${s}.append_history(j.history, o.record::jsonb, ${HISTORY_LIMIT}) END,
        -- An unstarted release undoes the claim: its strike goes back instead of all of them.
        strikes = CASE WHEN o.unstarted THEN greatest(0, j.strikes - 1) ELSE 0 END,
        lost_token = NULL, ${leaveRunning}
      FROM unnest($1::text[], $3::bigint[], $4::text[], $5::bigint[], $6::boolean[], $7::text[], $8::text[], $10::boolean[])
        AS o(kind, id, token, run_at, refund, record, fault, unstarted)
      WHERE j.id = o.id AND j.token = o.token AND ${idRange('$3')}
      RETURNING j.id, o.token, j.queue, j.state, j.run_at),
      counted AS (${countFinished(s, 'settled', 1)}),
      -- A late outcome of the claim the last recovery took away: its worker lived, so the strike
      -- the recovery charged is taken back. Only when some outcome was lost (a one-time filter:
      -- the usual batch, all applied, never reads the join), and never a row settled above.
      forgiven AS (UPDATE ${jobs} j SET strikes = greatest(0, j.strikes - 1), lost_token = NULL
        FROM unnest($3::bigint[], $4::text[]) AS f(id, token)
        WHERE (SELECT count(*) FROM settled) < cardinality($3::bigint[])
          AND j.id = f.id AND j.lost_token = f.token AND j.state <= 1
          AND j.id NOT IN (SELECT id FROM settled) AND ${idRange('$3')})
      SELECT id::text AS id, token, CASE WHEN state = 0 AND run_at <= $2 THEN pg_notify($9, queue)::text END AS notified
      FROM settled`,
    /**
     * `settle` for a batch of completions only, the bulk of the traffic: two arrays instead of
     * eight, no per-row CASE. Same fencing, counting and forgiveness. Tokens travel once each
     * (`$4`; the jobs of one claim share its token) and each outcome names its token by position
     * (`$3`, from 1). Returns the outcomes that were *not* applied (usually none: the same
     * one-time filter), not the applied ones, so a batch of a thousand completions sends back
     * nothing to parse.
     */
    complete: `WITH settled AS (UPDATE ${jobs} j SET state = 2, finished_at = $2, strikes = 0,
        lost_token = NULL, ${leaveRunning}
      FROM unnest($1::bigint[], $3::int[]) AS o(id, t)
      WHERE j.id = o.id AND j.token = ($4::text[])[o.t] AND ${idRange('$1')}
      RETURNING j.id, o.t, j.queue, j.state),
      counted AS (${countFinished(s, 'settled', 1)}),
      forgiven AS (UPDATE ${jobs} j SET strikes = greatest(0, j.strikes - 1), lost_token = NULL
        FROM unnest($1::bigint[], $3::int[]) AS f(id, t)
        WHERE (SELECT count(*) FROM settled) < cardinality($1::bigint[])
          AND j.id = f.id AND j.lost_token = ($4::text[])[f.t] AND j.state <= 1
          AND j.id NOT IN (SELECT id FROM settled) AND ${idRange('$1')})
      SELECT o.id::text AS id, ($4::text[])[o.t] AS token FROM unnest($1::bigint[], $3::int[]) AS o(id, t)
      WHERE (SELECT count(*) FROM settled) < cardinality($1::bigint[])
        AND NOT EXISTS (SELECT 1 FROM settled s WHERE s.id = o.id AND s.t = o.t)`,
    saveCheckpoint: `UPDATE ${jobs} SET checkpoint = $3 WHERE id = $1 AND token = $2 AND state = 1`,
    /** The pause rule of `mergePause`, in one atomic statement. */
    pause: `INSERT INTO ${s}.queues AS q (name, paused_until) VALUES ($1, $2)
      ON CONFLICT (name) DO UPDATE SET paused_until = CASE
        WHEN $4 OR q.paused_until IS NULL OR q.paused_until <= $3 THEN excluded.paused_until
        ELSE greatest(q.paused_until, excluded.paused_until) END`,
    resume: `UPDATE ${s}.queues SET paused_until = NULL WHERE name = $1 RETURNING pg_notify($2, name)::text AS notified`,
    ...finishedCountStatements(s),
    getJob: `SELECT * FROM ${jobs} WHERE id = $1`,
    lockDead: `SELECT id::text AS id FROM ${jobs} WHERE id = ANY($1::bigint[]) AND state = 3 FOR UPDATE`,
    // Writes that take jobs out of a finished state count them down in the same statement (the
    // deleted rows' own state: a purge of ids deletes what it finds).
    requeue: `WITH requeued AS (
        UPDATE ${jobs} SET state = 0, run_at = $2, attempts = 0, strikes = 0, lost_token = NULL, fault = NULL, finished_at = NULL
        WHERE id = ANY($1::bigint[]) AND state = 3 RETURNING queue),
      counted AS (${countFinished(s, '(SELECT queue, 3 AS state FROM requeued)', -1)})
      SELECT pg_notify($3, queue)::text AS notified FROM requeued`,
    deleteJobs: removing(`DELETE FROM ${jobs} WHERE id = ANY($1::bigint[])`),
    /** `removed`: how many rows went (prunes by age and by count). */
    pruneAge: removing(`DELETE FROM ${jobs} WHERE state = $1 AND finished_at < $2`),
    pruneCount: removing(`DELETE FROM ${jobs} WHERE id IN (
        SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY queue ORDER BY finished_at DESC, id DESC) AS n
          FROM ${jobs} WHERE state = $1) ranked WHERE n > $2)`),
    getCheckpoint: `SELECT key, value, updated_at FROM ${s}.checkpoints WHERE key = $1`,
    putCheckpoint: `INSERT INTO ${s}.checkpoints (key, value, updated_at) VALUES ($1, $2, $3)
      ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    deleteCheckpoint: `DELETE FROM ${s}.checkpoints WHERE key = $1`,
    listCheckpoints: `SELECT key, value, updated_at FROM ${s}.checkpoints WHERE starts_with(key, $1) ORDER BY key COLLATE "C"`,
    /** Dead letters matching filters built by the store (`WHERE` parts with numbered parameters). */
    selectDead: (columns: string, where: readonly string[], limit: string) =>
      `SELECT ${columns} FROM ${jobs} WHERE ${where.join(' AND ')} ORDER BY finished_at DESC, id DESC${limit}`,
    /** Dead letters per category, largest group first (filters as `selectDead`). */
    countDead: (where: readonly string[]) =>
      `SELECT category, count(*)::int AS count FROM (SELECT fault->>'category' AS category FROM ${jobs} WHERE ${where.join(' AND ')}) d
        GROUP BY category ORDER BY count(*) DESC, category COLLATE "C"`,
    /** Finished jobs per state and bucket: one range of the finished index for one queue (`$5`), or a pass over every queue's. */
    finishedPerBucket: (oneQueue: boolean) =>
      `SELECT state, ((finished_at - $1) / $2)::int AS bucket, count(*)::int AS count FROM ${jobs}
        WHERE ${oneQueue ? 'queue = $4 AND ' : ''}state >= 2 AND finished_at >= $1 AND finished_at < $3 GROUP BY 1, 2`,
  };
}

export type Statements = ReturnType<typeof buildStatements>;
