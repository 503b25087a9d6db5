import type Database from 'better-sqlite3';

export interface SqliteStoreOptions {
  /**
   * `NORMAL` (default): in WAL mode a commit survives a process crash; the last commits may be
   * lost if the machine loses power. `FULL`: every commit is synced to disk, slower.
   * @defaultValue 'NORMAL'
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /**
   * How long a write waits for another process's write lock before failing.
   * @defaultValue 5,000 ms
   */
  readonly busyTimeoutMs?: number;
  /**
   * The better-sqlite3 module to use instead of the installed `better-sqlite3` (for an aliased
   * install, such as `better-sqlite3-11: npm:better-sqlite3@11`).
   * @defaultValue `require('better-sqlite3')`, loaded when the first store opens
   */
  readonly driver?: typeof Database;
  /**
   * How often, at most, a call checks that the path still names the file the store opened (every
   * outcome write also checks, after its commit, so that no outcome written into a deleted file is
   * reported applied). A deleted or replaced file fails every call from then on with
   * StoreFileGoneError.
   * @defaultValue 1,000 ms; `ping()`, and so `queue.health()`, always checks
   */
  readonly fileCheckMs?: number;
}
