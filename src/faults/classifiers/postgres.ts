import type { Classifier, FaultCategory } from '../fault.js';
import { isObject } from '../read.js';

/** Specific SQLSTATEs first, then their two-character class. */
const STATES: ReadonlyMap<string, FaultCategory> = new Map<string, FaultCategory>([
  ['40001', 'conflict'], // serialization_failure
  ['40P01', 'conflict'], // deadlock_detected
  ['55P03', 'conflict'], // lock_not_available
  ['57P01', 'unavailable'], // admin_shutdown
  ['57P02', 'unavailable'], // crash_shutdown
  ['57P03', 'unavailable'], // cannot_connect_now
  ['57014', 'timeout'], // query_canceled (statement_timeout)
]);

const CLASSES: ReadonlyMap<string, FaultCategory> = new Map<string, FaultCategory>([
  ['08', 'network'], // connection exception
  ['53', 'resource'], // insufficient resources
  ['28', 'auth'], // invalid authorization
  ['22', 'validation'], // data exception
  ['23', 'validation'], // integrity constraint violation
  ['42', 'permanent'], // syntax error or access rule violation
  ['0A', 'permanent'], // feature not supported
  ['3D', 'permanent'], // invalid catalog name
  ['25', 'conflict'], // invalid transaction state
]);

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * PostgreSQL errors (node-postgres `DatabaseError`, postgres.js `PostgresError`): a five
 * character SQLSTATE in `code`, plus the server's `severity`.
 */
export const postgresClassifier: Classifier = {
  name: 'postgres',
  classify(error) {
    if (!isObject(error)) return undefined;
    const code = error.code;
    if (typeof code !== 'string' || code.length !== 5 || !SQLSTATE.test(code)) return undefined;
    if (
      error.severity === undefined &&
      error.name !== 'DatabaseError' &&
      error.name !== 'PostgresError'
    ) {
      return undefined;
    }
    const category = STATES.get(code) ?? CLASSES.get(code.slice(0, 2));
    return category === undefined ? undefined : { category, code };
  },
};
