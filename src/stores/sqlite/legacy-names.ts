import type Database from 'better-sqlite3';

/**
 * Stores written before the rename (when faultline was called lifeline, up to commit 744aecd) keep
 * their data in `lifeline_*` tables with the same columns. Opening such a file renames the tables
 * and their indexes to `faultline_*` in one IMMEDIATE transaction, so the schema migrations that
 * follow see an ordinary faultline store. This file is the only code that knows the old name.
 */
const LEGACY_PREFIX = 'lifeline_';
const LEGACY_VERSION_TABLE = `${LEGACY_PREFIX}schema_version`;
const CURRENT_PREFIX = 'faultline_';

/** True when `tables` (the names in sqlite_master) are those of a store from before the rename. */
export function isLegacyStore(tables: readonly string[]): boolean {
  return (
    tables.includes(LEGACY_VERSION_TABLE) && !tables.includes(`${CURRENT_PREFIX}schema_version`)
  );
}

/** The schema version recorded by a pre-rename store (read only). */
export function legacyVersion(db: Database.Database): number {
  const row = db.prepare(`SELECT max(version) AS version FROM ${LEGACY_VERSION_TABLE}`).get() as
    | { version: number | null }
    | undefined;
  return row?.version ?? 0;
}

/**
 * Renames every `lifeline_*` table and index to `faultline_*`. Call inside a write transaction;
 * does nothing if another process renamed them first. A process still running the old code on
 * the same file fails its next statement ("no such table") rather than writing beside the new one.
 */
export function renameLegacyTables(db: Database.Database): void {
  const objects = db
    .prepare(
      "SELECT type, name, sql FROM sqlite_master WHERE name LIKE 'lifeline\\_%' ESCAPE '\\' AND type IN ('table', 'index')",
    )
    .all() as { type: 'table' | 'index'; name: string; sql: string | null }[];
  if (!isLegacyStore(objects.filter((o) => o.type === 'table').map((o) => o.name))) return;
  for (const table of objects.filter((o) => o.type === 'table')) {
    db.exec(`ALTER TABLE ${table.name} RENAME TO ${renamed(table.name)}`);
  }
  // ALTER TABLE rewrites the indexes' table references but keeps their names; recreate them
  // under the new names from their own (already rewritten) definitions.
  const indexes = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name LIKE 'lifeline\\_%' ESCAPE '\\' AND sql IS NOT NULL",
    )
    .all() as { name: string; sql: string }[];
  for (const index of indexes) {
    db.exec(`DROP INDEX ${index.name}`);
    db.exec(index.sql.replace(index.name, renamed(index.name)));
  }
}

function renamed(name: string): string {
  return CURRENT_PREFIX + name.slice(LEGACY_PREFIX.length);
}
