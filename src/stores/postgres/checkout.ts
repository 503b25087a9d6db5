import type pg from 'pg';

/** A connection taken from the pool, with an error listener for as long as it is out. */
export interface CheckedOut {
  readonly client: pg.PoolClient;
  /** The connection's own error while it was out (server gone, backend terminated), if any. */
  readonly failure: () => Error | undefined;
  /** Returns it to the pool; a connection that failed, or `destroy`, is closed instead. */
  release(destroy?: boolean): void;
}

/**
 * `pool.connect()` for every piece of store code. node-postgres emits 'error' on a checked-out
 * connection whose server dies or whose backend is terminated, and the pool listens only on idle
 * ones: without a listener of ours, that event is unhandled and ends the worker's process. The
 * listener keeps the error; the query in progress (or the next one) fails on its own, and a
 * connection that failed never goes back to the pool.
 */
export async function checkout(pool: pg.Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  let failure: Error | undefined;
  const onError = (error: Error) => {
    failure ??= error;
  };
  client.on('error', onError);
  let released = false;
  return {
    client,
    failure: () => failure,
    release: (destroy = false) => {
      if (released) return;
      released = true;
      client.removeListener('error', onError);
      client.release(failure ?? destroy);
    },
  };
}
