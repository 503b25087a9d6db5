import { FaultlineError } from '../faults/errors.js';
import type { FaultCategory } from '../faults/fault.js';

/**
 * Typed errors a store throws when the store itself fails (as opposed to a job's handler).
 * Each declares its category and whether trying again can help, so `classify` and the worker's
 * plan treat them right: a dropped connection is transient, a deleted or corrupt file is not.
 * None of them holds a driver's error object: their `cause` is a sanitized copy (name, message,
 * code), so no credential or command argument reaches a log through them.
 */

/** What a store error keeps of the driver error behind it. */
export interface SanitizedCause {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
}

/** A store call failed; the driver's error is summarised (sanitized) in `cause`. */
export class StoreError extends FaultlineError {
  readonly category: FaultCategory;
  readonly retryable: boolean;
  readonly code?: string;
  constructor(
    message: string,
    options: {
      readonly category: FaultCategory;
      readonly retryable: boolean;
      readonly code?: string;
      readonly cause?: SanitizedCause;
    },
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.category = options.category;
    this.retryable = options.retryable;
    if (options.code !== undefined) this.code = options.code;
  }
}

/**
 * The store could not be reached or refused us: connection refused or closed, no answer in
 * time, authentication failed. `target` names host, port and database, never credentials.
 */
export class StoreConnectionError extends StoreError {
  constructor(
    readonly target: string,
    message: string,
    options: {
      readonly category: FaultCategory;
      readonly retryable: boolean;
      readonly code?: string;
      readonly cause?: SanitizedCause;
    },
  ) {
    super(message, options);
  }
}

/**
 * The SQLite file this store opened was deleted, or replaced by another file, while the store
 * was open. Writes after that would go to an unlinked file and vanish at close, so the store
 * refuses every call from then on. Not retryable: a person must restore the file.
 */
export class StoreFileGoneError extends FaultlineError {
  readonly category = 'resource' as const;
  readonly retryable = false;
  readonly code = 'STORE_FILE_GONE';
  constructor(
    readonly path: string,
    readonly what: 'deleted' | 'replaced',
  ) {
    super(
      what === 'deleted'
        ? `The SQLite store ${path} was deleted while open: nothing more is written (it would be lost at close). Restore the file from a backup and restart.`
        : `The SQLite store ${path} was replaced by another file while open: nothing more is written to the old one. Restart to open the new file.`,
    );
  }
}
