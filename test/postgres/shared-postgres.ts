import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * The shared PostgreSQL at 127.0.0.1:5432 (database `test`), with a schema of its own per test
 * that the test drops afterwards. A test that needs it fails loudly when it is not there.
 */
export const SHARED_POSTGRES_URL =
  process.env.FAULTLINE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function uniqueSchema(label = 't'): string {
  return `ft_test_${label}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

export function sharedPool(max = 5): pg.Pool {
  const pool = new pg.Pool({ connectionString: SHARED_POSTGRES_URL, max });
  pool.on('error', () => {});
  return pool;
}

export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}
