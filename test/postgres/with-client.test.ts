import { afterAll, describe, expect, it } from 'vitest';
import { withClient } from '../../src/stores/postgres/connection.js';
import { sharedPool } from './shared-postgres.js';

/**
 * A connection the store holds (a transaction, the schema check) whose backend is terminated
 * while it is out of the pool: node-postgres emits 'error' on it, and without a listener that
 * error is unhandled and ends the process (the fault matrix counts such exits as crashes).
 * Against the shared server, terminating only this test's own backend.
 */
const pool = sharedPool(2);
afterAll(() => pool.end());

describe('withClient', () => {
  it('survives the connection being terminated while out, and does not return it to the pool', async () => {
    const outcome = await withClient(pool, async (client) => {
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      await pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await ended;
      return client.query('SELECT 1').then(
        () => 'answered',
        (error: Error) => error.message,
      );
    });
    expect(outcome).not.toBe('answered');
    // The dead connection is gone; the pool serves the next call on a fresh one.
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect(pool.totalCount).toBe(1);
  });

  it('hands a healthy connection back for reuse without its listener', async () => {
    const pid = await withClient(
      pool,
      async (client) => (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid,
    );
    await withClient(pool, async (client) => {
      expect((await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
      // The pool's idle listener is off while it is out; ours is the one.
      expect(client.listenerCount('error')).toBe(1);
    });
  });
});
