import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { StoreError, StoreFileGoneError } from '../../durable/store-errors.js';
import { ConfigError } from '../../faults/errors.js';

/**
 * A SQLite connection keeps working on a file that was deleted (or renamed over) under it:
 * every write "succeeds" into an unlinked inode and is gone when the store closes. So the store
 * remembers which file it opened (device and inode) and compares it with what the path names
 * now, at most every `everyMs` (a stat is a system call; a hot enqueue loop must not pay it
 * each time), and always when asked by a health check.
 */
export class FileIdentity {
  private readonly dev: number;
  private readonly ino: number;
  private nextCheckAt = 0;
  private gone: StoreFileGoneError | undefined;

  constructor(
    readonly path: string,
    private readonly everyMs: number,
  ) {
    const stat = statSync(path);
    this.dev = stat.dev;
    this.ino = stat.ino;
  }

  /** Throws StoreFileGoneError once the path no longer names the opened file; sticky from then on. */
  check(force = false): void {
    if (this.gone !== undefined) throw this.gone;
    if (!force) {
      const now = performance.now();
      if (now < this.nextCheckAt) return;
      this.nextCheckAt = now + this.everyMs;
    }
    let what: 'deleted' | 'replaced' | undefined;
    try {
      const stat = statSync(this.path);
      if (stat.ino !== this.ino || stat.dev !== this.dev) what = 'replaced';
    } catch (error) {
      if (
        (error as { code?: unknown }).code === 'ENOENT' ||
        (error as { code?: unknown }).code === 'ENOTDIR'
      )
        what = 'deleted';
      else throw error;
    }
    if (what !== undefined) {
      this.gone = new StoreFileGoneError(this.path, what);
      throw this.gone;
    }
  }
}

/**
 * Checks a store path before SQLite sees it: SQLite cuts a path at a NUL and opens another
 * file, and a missing folder surfaces as a TypeError without the path.
 */
export function checkStorePath(path: unknown): string {
  if (typeof path !== 'string' || path.length === 0)
    throw new ConfigError('path', path, 'a file path');
  if (path.includes('\0'))
    throw new ConfigError(
      'path',
      path,
      'a file path without NUL characters (SQLite would stop at the NUL and open another file)',
    );
  const folder = dirname(resolve(path));
  if (!existsSync(folder))
    throw new ConfigError('path', path, `a file in an existing folder: ${folder} does not exist`);
  if (!statSync(folder).isDirectory())
    throw new ConfigError('path', path, `a file in a folder: ${folder} is not a folder`);
  return path;
}

/**
 * Refuses a store file (or its `-wal`) this process cannot write. SQLite would open it read-only
 * without a word and fail only at the first write, after a worker had started on it.
 */
export function checkWritableFile(path: string): void {
  for (const file of [path, `${path}-wal`]) {
    if (existsSync(file) && !writable(file))
      throw accessError(path, { code: 'SQLITE_READONLY', message: `${file} is read-only` });
  }
}

/** SQLite result codes that mean "cannot open or write this file here", not "this is not SQLite". */
const ACCESS_CODES = new Set(['SQLITE_CANTOPEN', 'SQLITE_READONLY', 'SQLITE_PERM', 'SQLITE_AUTH']);

export function isAccessFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    typeof code === 'string' &&
    [...ACCESS_CODES].some((prefix) => code === prefix || code.startsWith(`${prefix}_`))
  );
}

/**
 * Says why SQLite could not open or write the store: a read-only file, or a read-only folder
 * (SQLite must create `-wal` and `-shm` files beside the store in WAL mode).
 */
export function accessError(path: string, error: unknown): StoreError {
  const folder = dirname(resolve(path));
  const name = basename(path);
  const code = String((error as { code?: unknown } | null)?.code ?? 'SQLITE_CANTOPEN');
  let why = `SQLite said: ${(error as { message?: unknown } | null)?.message ?? code}`;
  if (!writable(folder))
    why = `the folder ${folder} is read-only to this process, and SQLite must create ${name}-wal and ${name}-shm beside the file`;
  else if (existsSync(path) && !writable(path)) why = `the file is read-only to this process`;
  return new StoreError(
    `The SQLite store ${path} cannot be opened for writing: ${why}. Make it writable, or copy the file to a writable folder to inspect it.`,
    {
      category: 'resource',
      retryable: false,
      code,
      cause: {
        name: 'SqliteError',
        message: String((error as { message?: unknown } | null)?.message ?? ''),
        code,
      },
    },
  );
}

function writable(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}
