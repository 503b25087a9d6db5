import { NotAFaultlineStoreError, SchemaVersionError } from '../../durable/errors.js';
import type { Queryable } from './connection.js';
import {
  countFinished,
  dropFinishedCountTriggers,
  finishedCountsMigration,
} from './finished-counts.js';

/**
 * Versioned migrations of one PostgreSQL schema (default `faultline`). Each runs once, in order,
 * in one transaction that holds an advisory lock on the schema's name, so any number of
 * processes starting at once migrate it once. Times are epoch milliseconds in BIGINT columns
 * (the store interface's clock), history and faults are JSONB, payloads stay TEXT untouched.
 */
function migrations(s: string): readonly (readonly string[])[] {
  return [
    // 1: jobs, queues (pause state), checkpoints, and the claim function.
    [
      `CREATE TABLE ${s}.jobs (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        queue TEXT NOT NULL,
        state SMALLINT NOT NULL,          -- 0 waiting, 1 running, 2 completed, 3 dead
        payload TEXT NOT NULL,
        priority INTEGER NOT NULL,
        run_at BIGINT NOT NULL,
        enqueued_at BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        max_attempts INTEGER,
        strikes INTEGER NOT NULL DEFAULT 0,
        token TEXT,
        worker_id TEXT,
        claimed_at BIGINT,
        lease_until BIGINT,
        finished_at BIGINT,
        idempotency_key TEXT,
        checkpoint TEXT,
        history JSONB NOT NULL DEFAULT '[]',
        fault JSONB
      )`,
      `CREATE INDEX jobs_claim ON ${s}.jobs (queue, priority DESC, run_at, id) WHERE state = 0`,
      `CREATE INDEX jobs_lease ON ${s}.jobs (queue, lease_until) WHERE state = 1`,
      `CREATE INDEX jobs_finished ON ${s}.jobs (queue, state, finished_at) WHERE state >= 2`,
      `CREATE UNIQUE INDEX jobs_idempotency ON ${s}.jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL`,
      `CREATE TABLE ${s}.queues (name TEXT PRIMARY KEY, paused_until BIGINT)`,
      `CREATE TABLE ${s}.checkpoints (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at BIGINT NOT NULL)`,
      // The database's clock in epoch ms, read when called (not at the start of the transaction).
      `CREATE FUNCTION ${s}.now_ms() RETURNS BIGINT LANGUAGE sql VOLATILE AS $$ SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint $$`,
      // One round trip per claim: recover expired leases, then take waiting jobs, both skipping
      // rows another transaction holds. Two statements, because the second must see the first.
      // With p_db_clock, "now" is the later of the caller's clock and the database's at this
      // moment, so a request that reaches the server late never starts an already-expired lease.
      `CREATE FUNCTION ${s}.claim(p_queue TEXT, p_worker TEXT, p_limit INTEGER, p_lease_ms BIGINT, p_caller_now BIGINT,
          p_max_strikes INTEGER, p_token TEXT, p_crash_fault TEXT, p_db_clock BOOLEAN, p_async_commit BOOLEAN)
        RETURNS TABLE (id BIGINT, payload TEXT, priority INTEGER, attempts INTEGER, max_attempts INTEGER, enqueued_at BIGINT,
          run_at BIGINT, lease_until BIGINT, checkpoint TEXT, idempotency_key TEXT)
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        DECLARE
          p_now BIGINT := CASE WHEN p_db_clock THEN greatest(p_caller_now, ${s}.now_ms()) ELSE p_caller_now END;
        BEGIN
          IF p_async_commit THEN
            -- This transaction only: its commit does not wait for the WAL flush (see asyncClaimCommit).
            PERFORM set_config('synchronous_commit', 'off', true);
          END IF;
          IF EXISTS (SELECT 1 FROM ${s}.queues q WHERE q.name = p_queue AND q.paused_until > p_now) THEN
            RETURN;
          END IF;
          UPDATE ${s}.jobs j SET
            state = CASE WHEN j.strikes >= p_max_strikes THEN 3 ELSE 0 END,
            finished_at = CASE WHEN j.strikes >= p_max_strikes THEN p_now END,
            fault = CASE WHEN j.strikes >= p_max_strikes THEN replace(p_crash_fault, '-123456789', j.strikes::text)::jsonb END,
            history = j.history || jsonb_build_array(jsonb_build_object('attempt', j.attempts, 'workerId', coalesce(j.worker_id, ''),
              'startedAt', j.claimed_at, 'durationMs', j.lease_until - j.claimed_at, 'outcome', 'lease_lost')),
            token = NULL, worker_id = NULL, claimed_at = NULL, lease_until = NULL
          WHERE j.id IN (SELECT e.id FROM ${s}.jobs e WHERE e.queue = p_queue AND e.state = 1 AND e.lease_until <= p_now
                         FOR UPDATE SKIP LOCKED);
          RETURN QUERY
            UPDATE ${s}.jobs j SET state = 1, token = p_token, worker_id = p_worker, claimed_at = p_now,
              lease_until = p_now + p_lease_ms, attempts = j.attempts + 1, strikes = j.strikes + 1
            FROM (SELECT w.id FROM ${s}.jobs w WHERE w.queue = p_queue AND w.state = 0 AND w.run_at <= p_now
                  ORDER BY w.priority DESC, w.run_at, w.id LIMIT p_limit FOR UPDATE SKIP LOCKED) c
            WHERE j.id = c.id
            RETURNING j.id, j.payload, j.priority, j.attempts, j.max_attempts, j.enqueued_at, j.run_at, j.lease_until,
              j.checkpoint, j.idempotency_key;
        END
        $$`,
    ],
    // 2: the leases' contract, job headers and the dashboard's queries.
    leasesHeadersAndDashboard(s),
    // 3: completed and dead counts per queue, kept by triggers (see finished-counts.ts).
    finishedCountsMigration(s),
    // 4: the store's own writes keep those counts; the triggers go, the claim counts its recoveries.
    [...dropFinishedCountTriggers(s), claimCountingRecoveries(s)],
  ];
}

/**
 * Version 2. Job headers (JSON text; older rows read as none). `lost_token`: the last lease a
 * recovery took away, so its late unstarted hand-back can take its strike back. Struck jobs are
 * claimed apart (`p_max_struck`), a crash costs a strike but not an attempt, and histories stay
 * bounded (`append_history`: the first record plus the newest `limit - 1`). Dead letters of every
 * queue paged newest first, by category, and by queue and category, without scanning completed
 * jobs: partial indexes, so only dead letters pay for them.
 */
function leasesHeadersAndDashboard(s: string): readonly string[] {
  return [
    `ALTER TABLE ${s}.jobs ADD COLUMN headers TEXT, ADD COLUMN lost_token TEXT`,
    `CREATE INDEX jobs_struck ON ${s}.jobs (queue, priority DESC, run_at, id) WHERE state = 0 AND strikes > 0`,
    `CREATE INDEX jobs_dead ON ${s}.jobs (finished_at DESC, id DESC) WHERE state = 3`,
    `CREATE INDEX jobs_dead_category ON ${s}.jobs ((fault->>'category'), finished_at DESC, id DESC) WHERE state = 3`,
    `CREATE INDEX jobs_dead_queue_category ON ${s}.jobs (queue, (fault->>'category'), finished_at DESC, id DESC) WHERE state = 3`,
    `CREATE FUNCTION ${s}.append_history(p_history JSONB, p_record JSONB, p_limit INTEGER) RETURNS JSONB LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN jsonb_array_length(h) <= p_limit THEN h
          ELSE jsonb_build_array(h->0) || (SELECT jsonb_agg(e ORDER BY n) FROM jsonb_array_elements(h) WITH ORDINALITY AS x(e, n)
            WHERE n > jsonb_array_length(h) - (p_limit - 1)) END
        FROM (SELECT p_history || jsonb_build_array(p_record) AS h) appended
      $$`,
    `DROP FUNCTION ${s}.claim(TEXT, TEXT, INTEGER, BIGINT, BIGINT, INTEGER, TEXT, TEXT, BOOLEAN, BOOLEAN)`,
    `CREATE FUNCTION ${s}.claim(p_queue TEXT, p_worker TEXT, p_limit INTEGER, p_lease_ms BIGINT, p_caller_now BIGINT,
        p_max_strikes INTEGER, p_token TEXT, p_crash_fault TEXT, p_db_clock BOOLEAN, p_async_commit BOOLEAN,
        p_max_struck INTEGER, p_history_limit INTEGER)
      RETURNS TABLE (id BIGINT, payload TEXT, priority INTEGER, attempts INTEGER, strikes INTEGER, max_attempts INTEGER,
        enqueued_at BIGINT, run_at BIGINT, lease_until BIGINT, checkpoint TEXT, idempotency_key TEXT, headers TEXT)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        p_now BIGINT := CASE WHEN p_db_clock THEN greatest(p_caller_now, ${s}.now_ms()) ELSE p_caller_now END;
      BEGIN
        IF p_async_commit THEN
          -- This transaction only: its commit does not wait for the WAL flush (see asyncClaimCommit).
          PERFORM set_config('synchronous_commit', 'off', true);
        END IF;
        IF EXISTS (SELECT 1 FROM ${s}.queues q WHERE q.name = p_queue AND q.paused_until > p_now) THEN
          RETURN;
        END IF;
        -- A crash costs a strike, not a plan attempt: the attempt count goes back by one.
        UPDATE ${s}.jobs j SET
          state = CASE WHEN j.strikes >= p_max_strikes THEN 3 ELSE 0 END,
          finished_at = CASE WHEN j.strikes >= p_max_strikes THEN p_now END,
          fault = CASE WHEN j.strikes >= p_max_strikes THEN replace(p_crash_fault, '-123456789', j.strikes::text)::jsonb END,
          attempts = greatest(0, j.attempts - 1),
          lost_token = j.token,
          history = ${s}.append_history(j.history, jsonb_build_object('attempt', j.attempts, 'workerId', coalesce(j.worker_id, ''),
            'startedAt', j.claimed_at, 'durationMs', j.lease_until - j.claimed_at, 'outcome', 'lease_lost'), p_history_limit),
          token = NULL, worker_id = NULL, claimed_at = NULL, lease_until = NULL
        WHERE j.id IN (SELECT e.id FROM ${s}.jobs e WHERE e.queue = p_queue AND e.state = 1 AND e.lease_until <= p_now
                       FOR UPDATE SKIP LOCKED);
        -- Struck jobs (strikes > 0) are taken only up to p_max_struck (NULL: no limit); the others wait in place.
        RETURN QUERY
          UPDATE ${s}.jobs j SET state = 1, token = p_token, worker_id = p_worker, claimed_at = p_now,
            lease_until = p_now + p_lease_ms, attempts = j.attempts + 1, strikes = j.strikes + 1
          FROM (SELECT w.id FROM ${s}.jobs w WHERE w.queue = p_queue AND w.state = 0 AND w.run_at <= p_now
                  AND (w.strikes = 0 OR w.id IN (SELECT k.id FROM ${s}.jobs k WHERE k.queue = p_queue AND k.state = 0 AND k.strikes > 0
                    AND k.run_at <= p_now ORDER BY k.priority DESC, k.run_at, k.id LIMIT p_max_struck))
                ORDER BY w.priority DESC, w.run_at, w.id LIMIT p_limit FOR UPDATE SKIP LOCKED) c
          WHERE j.id = c.id
          RETURNING j.id, j.payload, j.priority, j.attempts, j.strikes - 1, j.max_attempts, j.enqueued_at, j.run_at, j.lease_until,
            j.checkpoint, j.idempotency_key, j.headers;
      END
      $$`,
  ];
}

/**
 * Version 4's claim function: version 2's, whose crash-loop recovery counts the jobs it makes dead
 * in the same statement (a data-modifying CTE, see finished-counts.ts). Same arguments and result,
 * so it replaces the old one in place.
 */
function claimCountingRecoveries(s: string): string {
  return `CREATE OR REPLACE FUNCTION ${s}.claim(p_queue TEXT, p_worker TEXT, p_limit INTEGER, p_lease_ms BIGINT,
        p_caller_now BIGINT, p_max_strikes INTEGER, p_token TEXT, p_crash_fault TEXT, p_db_clock BOOLEAN,
        p_async_commit BOOLEAN, p_max_struck INTEGER, p_history_limit INTEGER)
      RETURNS TABLE (id BIGINT, payload TEXT, priority INTEGER, attempts INTEGER, strikes INTEGER, max_attempts INTEGER,
        enqueued_at BIGINT, run_at BIGINT, lease_until BIGINT, checkpoint TEXT, idempotency_key TEXT, headers TEXT)
      LANGUAGE plpgsql AS $$
      #variable_conflict use_column
      DECLARE
        p_now BIGINT := CASE WHEN p_db_clock THEN greatest(p_caller_now, ${s}.now_ms()) ELSE p_caller_now END;
      BEGIN
        IF p_async_commit THEN
          -- This transaction only: its commit does not wait for the WAL flush (see asyncClaimCommit).
          PERFORM set_config('synchronous_commit', 'off', true);
        END IF;
        IF EXISTS (SELECT 1 FROM ${s}.queues q WHERE q.name = p_queue AND q.paused_until > p_now) THEN
          RETURN;
        END IF;
        -- A crash costs a strike, not a plan attempt: the attempt count goes back by one. A job out
        -- of strikes is dead, and counted as such.
        WITH recovered AS (
          UPDATE ${s}.jobs j SET
            state = CASE WHEN j.strikes >= p_max_strikes THEN 3 ELSE 0 END,
            finished_at = CASE WHEN j.strikes >= p_max_strikes THEN p_now END,
            fault = CASE WHEN j.strikes >= p_max_strikes THEN replace(p_crash_fault, '-123456789', j.strikes::text)::jsonb END,
            attempts = greatest(0, j.attempts - 1),
            lost_token = j.token,
            history = ${s}.append_history(j.history, jsonb_build_object('attempt', j.attempts, 'workerId', coalesce(j.worker_id, ''),
              'startedAt', j.claimed_at, 'durationMs', j.lease_until - j.claimed_at, 'outcome', 'lease_lost'), p_history_limit),
            token = NULL, worker_id = NULL, claimed_at = NULL, lease_until = NULL
          WHERE j.id IN (SELECT e.id FROM ${s}.jobs e WHERE e.queue = p_queue AND e.state = 1 AND e.lease_until <= p_now
                         FOR UPDATE SKIP LOCKED)
          RETURNING j.queue, j.state)
        ${countFinished(s, 'recovered', 1)};
        -- Struck jobs (strikes > 0) are taken only up to p_max_struck (NULL: no limit); the others wait in place.
        RETURN QUERY
          UPDATE ${s}.jobs j SET state = 1, token = p_token, worker_id = p_worker, claimed_at = p_now,
            lease_until = p_now + p_lease_ms, attempts = j.attempts + 1, strikes = j.strikes + 1
          FROM (SELECT w.id FROM ${s}.jobs w WHERE w.queue = p_queue AND w.state = 0 AND w.run_at <= p_now
                  AND (w.strikes = 0 OR w.id IN (SELECT k.id FROM ${s}.jobs k WHERE k.queue = p_queue AND k.state = 0 AND k.strikes > 0
                    AND k.run_at <= p_now ORDER BY k.priority DESC, k.run_at, k.id LIMIT p_max_struck))
                ORDER BY w.priority DESC, w.run_at, w.id LIMIT p_limit FOR UPDATE SKIP LOCKED) c
          WHERE j.id = c.id
          RETURNING j.id, j.payload, j.priority, j.attempts, j.strikes - 1, j.max_attempts, j.enqueued_at, j.run_at, j.lease_until,
            j.checkpoint, j.idempotency_key, j.headers;
      END
      $$`;
}

export const SCHEMA_VERSION = 4;
const VERSION_TABLE = 'schema_version';

/** `"name"`: a schema name as a quoted identifier (names are checked when the store is made). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Checks the schema without writing: 0 when it does not exist or is empty, else its version. */
export async function inspectSchema(
  db: Queryable,
  schema: string,
  location: string,
): Promise<number> {
  const tables = (
    await db.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1', [
      schema,
    ])
  ).rows.map((r) => (r as { table_name: string }).table_name);
  if (tables.length === 0) return 0;
  if (!tables.includes(VERSION_TABLE)) {
    throw new NotAFaultlineStoreError(
      location,
      `schema ${schema} holds other tables (${tables.slice(0, 5).join(', ')}) and no ${VERSION_TABLE}`,
    );
  }
  const { rows } = await db.query(
    `SELECT max(version) AS version FROM ${quoteIdent(schema)}.${VERSION_TABLE}`,
  );
  const version = Number((rows[0] as { version: number | null } | undefined)?.version ?? 0);
  if (version > SCHEMA_VERSION) throw new SchemaVersionError(location, version, SCHEMA_VERSION);
  return version;
}

/** The statements that bring `schema` from version `from` to SCHEMA_VERSION (what `migrate --dry-run` prints). */
export function migrationStatements(schema: string, from: number): string[] {
  const s = quoteIdent(schema);
  const statements: string[] = [];
  if (from === 0) {
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    statements.push(
      `CREATE TABLE IF NOT EXISTS ${s}.${VERSION_TABLE} (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`,
    );
  }
  const all = migrations(s);
  for (let version = from + 1; version <= SCHEMA_VERSION; version++) {
    statements.push(...all[version - 1]!);
    statements.push(`INSERT INTO ${s}.${VERSION_TABLE} (version) VALUES (${version})`);
  }
  return statements;
}

/** The advisory lock key of one schema's migrations (pg_advisory_xact_lock takes a bigint). */
const LOCK_SQL = "SELECT pg_advisory_xact_lock(hashtextextended('faultline.migrate.' || $1, 0))";

/**
 * Brings the schema to SCHEMA_VERSION. Returns the version it found. `client` is one connection
 * (the transaction and the advisory lock must stay on it).
 */
export async function migrate(
  client: Queryable,
  schema: string,
  location: string,
): Promise<number> {
  const found = await inspectSchema(client, schema, location);
  if (found === SCHEMA_VERSION) return found;
  await client.query('BEGIN');
  try {
    await client.query(LOCK_SQL, [schema]);
    // Re-read under the lock: another process may have migrated meanwhile.
    const current = await inspectSchema(client, schema, location);
    for (const statement of migrationStatements(schema, current)) await client.query(statement);
    await client.query('COMMIT');
    return current;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
