import { afterAll, describe, expect, it } from 'vitest';
import { checkout } from '../../src/stores/postgres/checkout.js';
import { sharedPool } from './shared-postgres.js';

/**
 * A connection the store holds (a transaction, the LISTEN connection) whose backend is
 * terminated while it is out of the pool: node-postgres emits 'error' on it, and without a
 * listener that error is unhandled and ends the process. Against the shared server, terminating
 * only this test's own backend.
 */
const pool = sharedPool(2);
afterAll(() => pool.end());

describe('checkout', () => {
  it('takes the error of a connection terminated while out, and closes it on release', async () => {
    const held = await checkout(pool);
    const pid = (await held.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const ended = new Promise<void>((resolve) => held.client.once('end', () => resolve()));
    await pool.query('SELECT pg_terminate_backend($1)', [pid]);
    await ended;
    expect(held.failure()?.message).toMatch(/terminat/);
    await expect(held.client.query('SELECT 1')).rejects.toThrow();
    held.release();
    // The dead connection is gone from the pool; the pool serves the next call on a fresh one.
    expect((await pool.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    expect(pool.totalCount).toBe(1);
  });

  it('hands a healthy connection back for reuse, and releasing twice is harmless', async () => {
    const held = await checkout(pool);
    const pid = (await held.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    held.release();
    held.release();
    expect(held.failure()).toBeUndefined();
    const again = await checkout(pool);
    expect((await again.client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
    expect(again.client.listenerCount('error')).toBe(1);
    again.release();
  });
});
