import { existsSync, readFileSync, watch } from 'node:fs';
import type Database from 'better-sqlite3';
import type { DurableStore } from '../../src/durable/store.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';

/** How a fault-harness worker process ends when a store fault that cannot heal stopped it. */
export const ABORT_EXIT = 3;

/** SQLite's own ceiling for max_page_count: "no limit". */
const NO_LIMIT = 4_294_967_294;

/**
 * The disk-full fault: `PRAGMA max_page_count` holds for one connection only, so every worker
 * process follows a control file the scenario writes: `full` caps its store at the pages it
 * has now (any write that needs one more page fails with SQLITE_FULL), `ok` lifts the cap.
 * Read at start too, so a worker restarted during the fault starts on a full disk.
 */
export function followControlFile(store: DurableStore, path: string): void {
  if (!(store instanceof SqliteStore)) return;
  const db = (store as unknown as { db: Database.Database }).db;
  const apply = () => {
    try {
      const text = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
      // A write in progress may be read as empty: the next change event brings the rest.
      if (text === 'full')
        db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
      else if (text === 'ok') db.pragma(`max_page_count = ${NO_LIMIT}`);
    } catch {
      // The store is closing (the worker stopped): nothing to cap any more.
    }
  };
  apply();
  if (existsSync(path)) watch(path, { persistent: false }, apply);
}
