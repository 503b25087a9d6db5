import type Database from 'better-sqlite3';

/** What `integrityCheck()` found: `ok`, or the problems SQLite listed (or the error it raised). */
export interface IntegrityReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/**
 * Runs `PRAGMA integrity_check` and returns what it found; never throws for a damaged file
 * (SQLite may raise SQLITE_CORRUPT instead of listing problems: that is a problem too).
 */
export function integrityCheck(db: Database.Database): IntegrityReport {
  try {
    const rows = (db.pragma('integrity_check') as { integrity_check: string }[]).map(
      (r) => r.integrity_check,
    );
    return rows.length === 1 && rows[0] === 'ok'
      ? { ok: true, problems: [] }
      : { ok: false, problems: rows };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return {
      ok: false,
      problems: [`${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`],
    };
  }
}
