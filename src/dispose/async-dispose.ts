/**
 * The key of `await using` disposal. Node 20 may not define `Symbol.asyncDispose` yet; Node's own
 * objects then use the registered symbol `nodejs.asyncDispose`, and so does faultline, so that
 * `await using store = new SqliteStore(file)` works wherever the runtime supports it. Everything
 * that holds resources has `close()` and this key, which calls it.
 */
export const asyncDispose: typeof Symbol.asyncDispose = (Symbol.asyncDispose ??
  Symbol.for('nodejs.asyncDispose')) as typeof Symbol.asyncDispose;
