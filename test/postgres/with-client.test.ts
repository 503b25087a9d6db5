import net from 'node:net';
import pg from 'pg';
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

/**
 * A proxy that holds what the server sends until `flush()`, then writes it in one chunk: the
 * connection's ReadyForQuery and the FATAL of a backend terminated right after it reach the
 * client together, and node-postgres handles both in one parse, before `await pool.connect()`
 * has resumed its caller.
 */
async function holdingProxy(target: number) {
  const held: Buffer[] = [];
  let client: net.Socket | undefined;
  let upstreamClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    upstreamClosed = resolve;
  });
  const server = net.createServer((socket) => {
    client = socket;
    socket.on('error', () => {});
    const upstream = net.connect(target, '127.0.0.1');
    upstream.on('error', () => {});
    socket.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => held.push(chunk));
    upstream.on('close', () => upstreamClosed());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    closed,
    flush: () => client?.end(Buffer.concat(held)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('withClient when the backend dies as the connection is handed over', () => {
  it('has its listener on before the error of the same chunk arrives', async () => {
    const proxy = await holdingProxy(5432);
    const app = `faultline-handover-${process.pid}`;
    const proxied = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${proxy.port}/test`,
      application_name: app,
      max: 1,
    });
    proxied.on('error', () => {});
    try {
      const outcome = withClient(proxied, async (client) => {
        await client.query('SELECT 1');
        return 'ran';
      }).catch((error: Error) => error.message);
      // The backend is up and has sent ReadyForQuery (held by the proxy): terminate it.
      for (let n = 0; n === 0; ) {
        n = (
          await pool.query(
            "SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'",
            [app],
          )
        ).rows[0].n;
      }
      await proxy.closed;
      proxy.flush();
      expect(await outcome).not.toBe('ran');
    } finally {
      await proxied.end().catch(() => undefined);
      await proxy.close();
    }
  });
});
