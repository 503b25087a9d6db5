import type { Classifier, FaultCategory } from '../fault.js';
import { isObject } from '../read.js';

/** SQLite result codes (primary part of `SQLITE_XXX[_EXTENDED]`) by category. */
const PRIMARY: ReadonlyMap<string, FaultCategory> = new Map<string, FaultCategory>([
  ['SQLITE_BUSY', 'conflict'],
  ['SQLITE_LOCKED', 'conflict'],
  ['SQLITE_FULL', 'resource'],
  ['SQLITE_NOMEM', 'resource'],
  ['SQLITE_IOERR', 'resource'],
  ['SQLITE_CORRUPT', 'resource'],
  ['SQLITE_NOTADB', 'resource'],
  ['SQLITE_CONSTRAINT', 'validation'],
  ['SQLITE_MISMATCH', 'validation'],
  ['SQLITE_TOOBIG', 'validation'],
  ['SQLITE_RANGE', 'validation'],
  // The store cannot be written or opened: no job is at fault, and no retry heals it, so the
  // plan stops the worker (resource) instead of dead-lettering the job in hand (permanent).
  ['SQLITE_READONLY', 'resource'],
  ['SQLITE_CANTOPEN', 'resource'],
  ['SQLITE_PERM', 'permanent'],
  ['SQLITE_AUTH', 'auth'],
  ['SQLITE_ERROR', 'permanent'],
  ['SQLITE_INTERRUPT', 'cancelled'],
]);

/** better-sqlite3's `SqliteError` and node:sqlite errors carry `code: 'SQLITE_...'`. */
export const sqliteClassifier: Classifier = {
  name: 'sqlite',
  classify(error) {
    if (!isObject(error)) return undefined;
    const code = error.code;
    if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return undefined;
    const second = code.indexOf('_', 7);
    const category = PRIMARY.get(second === -1 ? code : code.slice(0, second));
    return category === undefined ? undefined : { category, code };
  },
};
