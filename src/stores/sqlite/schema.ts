import type Database from 'better-sqlite3';
import { NotAFaultlineStoreError, SchemaVersionError } from '../../durable/errors.js';
import { dropFinishedCountTriggers, finishedCountsMigration } from './finished-counts.js';
import { isLegacyStore, legacyVersion, renameLegacyTables } from './legacy-names.js';

/** Version 3: job headers (trace context and the like, JSON text); older rows read as none. */
function addJobHeaders(): readonly string[] {
  return ['ALTER TABLE faultline_jobs ADD COLUMN headers TEXT'];
}

/**
 * Versioned migrations. Each runs once, in order, inside one IMMEDIATE transaction that also
 * records it in `faultline_schema_version`; a database at a version this code does not know is
 * refused before anything is written.
 */
const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: jobs, queues (pause state), checkpoints.
  [
    `CREATE TABLE faultline_jobs (
      id INTEGER PRIMARY KEY,
      queue TEXT NOT NULL,
      state INTEGER NOT NULL,            -- 0 waiting, 1 running, 2 completed, 3 dead
      payload TEXT NOT NULL,
      priority INTEGER NOT NULL,
      run_at INTEGER NOT NULL,
      enqueued_at INTEGER NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER,
      strikes INTEGER NOT NULL DEFAULT 0,
      token TEXT,
      worker_id TEXT,
      claimed_at INTEGER,
      lease_until INTEGER,
      finished_at INTEGER,
      idempotency_key TEXT,
      checkpoint TEXT,
      history TEXT NOT NULL DEFAULT '[]',
      fault TEXT
    )`,
    'CREATE INDEX faultline_jobs_claim ON faultline_jobs (queue, priority DESC, run_at, id) WHERE state = 0',
    'CREATE INDEX faultline_jobs_lease ON faultline_jobs (queue, lease_until) WHERE state = 1',
    'CREATE INDEX faultline_jobs_finished ON faultline_jobs (queue, state, finished_at) WHERE state >= 2',
    'CREATE UNIQUE INDEX faultline_jobs_idempotency ON faultline_jobs (queue, idempotency_key) WHERE idempotency_key IS NOT NULL',
    'CREATE TABLE faultline_queues (name TEXT PRIMARY KEY, paused_until INTEGER)',
    'CREATE TABLE faultline_checkpoints (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at INTEGER NOT NULL)',
  ],
  // 2: struck jobs (recovered after a crash) are claimed apart; this keeps finding them cheap.
  // lost_token: the last lease recovered after it expired, so its late unstarted hand-back can take its strike back.
  [
    'CREATE INDEX faultline_jobs_struck ON faultline_jobs (queue, priority DESC, run_at, id) WHERE state = 0 AND strikes > 0',
    'ALTER TABLE faultline_jobs ADD COLUMN lost_token TEXT',
  ],
  // 3: job headers.
  addJobHeaders(),
  // 4: dead letters of every queue paged newest first, by category, and by queue and category
  // (the dashboard's lists and group counts), without scanning the completed jobs or decoding
  // every fault. Partial indexes: only dead letters pay for them.
  [
    'CREATE INDEX faultline_jobs_dead ON faultline_jobs (finished_at, id) WHERE state = 3',
    "CREATE INDEX faultline_jobs_dead_category ON faultline_jobs (json_extract(fault, '$.category'), finished_at, id) WHERE state = 3",
    "CREATE INDEX faultline_jobs_dead_queue_category ON faultline_jobs (queue, json_extract(fault, '$.category'), finished_at, id) WHERE state = 3",
  ],
  // 5: completed and dead counts per queue (stats read a row, not an index count), first kept by triggers.
  finishedCountsMigration(),
  // 6: the store keeps those counts itself, one update per batch; the row triggers go.
  dropFinishedCountTriggers(),
];

export const SCHEMA_VERSION = MIGRATIONS.length;
const VERSION_TABLE = 'faultline_schema_version';

/**
 * Checks that `db` is empty or a faultline store this code can read, without writing anything.
 * Returns the version found (0 for an empty database).
 */
export function inspectSchema(db: Database.Database, location: string): number {
  let tables: string[];
  try {
    tables = (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((r) => r.name);
  } catch (error) {
    // Cannot open or lock it (a read-only folder, busy): not a verdict on what the file is.
    const code = (error as { code?: unknown }).code;
    if (
      typeof code === 'string' &&
      /^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|BUSY|LOCKED|IOERR)/.test(code)
    )
      throw error;
    throw new NotAFaultlineStoreError(
      location,
      `SQLite cannot read it (${(error as Error).message})`,
    );
  }
  if (tables.length === 0) return 0;
  // A store from before the rename: its tables get their new names in migrate().
  const legacy = isLegacyStore(tables);
  if (!legacy && !tables.includes(VERSION_TABLE)) {
    throw new NotAFaultlineStoreError(
      location,
      `it holds other tables (${tables.slice(0, 5).join(', ')}) and no ${VERSION_TABLE}`,
    );
  }
  const version = legacy ? legacyVersion(db) : currentVersion(db);
  if (version > SCHEMA_VERSION) throw new SchemaVersionError(location, version, SCHEMA_VERSION);
  return version;
}

function currentVersion(db: Database.Database): number {
  const row = db.prepare(`SELECT max(version) AS version FROM ${VERSION_TABLE}`).get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

function hasLegacyTables(db: Database.Database): boolean {
  return isLegacyStore(
    (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
    ).map((r) => r.name),
  );
}

/** Brings the database to SCHEMA_VERSION. Safe when several processes open the file at once. */
export function migrate(db: Database.Database, location: string, now: number): void {
  if (inspectSchema(db, location) === SCHEMA_VERSION && !hasLegacyTables(db)) return;
  db.transaction(() => {
    renameLegacyTables(db);
    // Re-read under the write lock: another process may have migrated meanwhile.
    const current = inspectSchema(db, location);
    if (current === 0)
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${VERSION_TABLE} (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`,
      );
    for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
      for (const statement of MIGRATIONS[version - 1]!) db.exec(statement);
      db.prepare(`INSERT INTO ${VERSION_TABLE} (version, applied_at) VALUES (?, ?)`).run(
        version,
        now,
      );
    }
  }).immediate();
}
