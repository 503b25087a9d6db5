import type { DurableStore } from '../durable/store.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * The concrete store constructors, loaded lazily so that `faultline --help` and commands on
 * one backend never load the other's driver.
 */
export async function openSqliteForCli(path: string): Promise<DurableStore> {
  let SqliteStore: typeof import('../stores/sqlite/sqlite-store.js').SqliteStore;
  try {
    ({ SqliteStore } = await import('../stores/sqlite/sqlite-store.js'));
  } catch (error) {
    throw new CliError(`Cannot load the SQLite store: ${(error as Error).message}`, EXIT.failure, 'Install the driver: npm install better-sqlite3');
  }
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
