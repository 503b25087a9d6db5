import type { DurableStore } from '../durable/store.js';

/**
 * The concrete store constructors, loaded lazily so that `faultline --help` and commands on
 * one backend never load the other's driver.
 */
export async function openSqliteForCli(path: string): Promise<DurableStore> {
  const { SqliteStore } = await import('../stores/sqlite/sqlite-store.js');
  // Without better-sqlite3 this throws MissingPeerError (exit code 5).
  return new SqliteStore(path);
}

/** Connects and pings; a store that does not answer is closed before the error is thrown. */
export async function openRedisForCli(url: string, prefix: string | undefined): Promise<DurableStore> {
  const { RedisStore } = await import('../stores/redis/redis-store.js');
  const store = new RedisStore({
    url,
    ...(prefix === undefined ? {} : { prefix }),
    // An inspection command should fail fast, not wait through reconnects.
    connection: { connectTimeoutMs: 3_000, commandTimeoutMs: 3_000, ioredis: { maxRetriesPerRequest: 1 } },
  });
  try {
    await store.ping();
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}
