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

/**
 * Connects and checks the schema. Inspection commands never create one (`create` false): a
 * schema that is missing or not current is an error naming `faultline migrate`.
 */
export async function openPostgresForCli(
  url: string,
  schema: string | undefined,
  create: boolean,
): Promise<DurableStore> {
  const { PostgresStore } = await import('../stores/postgres/postgres-store.js');
  // Without pg this throws MissingPeerError (exit code 5).
  return PostgresStore.open({
    connectionString: url,
    ...(schema === undefined ? {} : { schema }),
    migrate: create,
    // An inspection command should fail fast, and needs no wake-ups.
    listen: create,
    poolOptions: { connectionTimeoutMillis: 3_000, query_timeout: 5_000, max: 4 },
  });
}

/** Connects and pings; a store that does not answer is closed before the error is thrown. */
export async function openRedisForCli(
  url: string,
  prefix: string | undefined,
): Promise<DurableStore> {
  const { RedisStore } = await import('../stores/redis/redis-store.js');
  const store = new RedisStore({
    url,
    ...(prefix === undefined ? {} : { prefix }),
    // An inspection command should fail fast, not wait through reconnects.
    connection: {
      connectTimeoutMs: 3_000,
      commandTimeoutMs: 3_000,
      ioredis: { maxRetriesPerRequest: 1 },
    },
  });
  try {
    await store.ping();
    return store;
  } catch (error) {
    await store.close().catch(() => undefined);
    throw error;
  }
}

/** The schema's version and the SQL that would bring it to the current one; writes nothing. */
export async function postgresMigrationPlan(
  url: string,
  schema: string | undefined,
): Promise<{ schema: string; version: number; target: number; statements: string[] }> {
  const { PostgresStore } = await import('../stores/postgres/postgres-store.js');
  const { inspectSchema, migrationStatements, SCHEMA_VERSION } = await import(
    '../stores/postgres/schema.js'
  );
  const store = new PostgresStore({
    connectionString: url,
    ...(schema === undefined ? {} : { schema }),
    listen: false,
    poolOptions: { connectionTimeoutMillis: 3_000, max: 1 },
  });
  try {
    const version = await inspectSchema(store.pool, store.schema, String(store));
    return {
      schema: store.schema,
      version,
      target: SCHEMA_VERSION,
      statements: migrationStatements(store.schema, version),
    };
  } finally {
    await store.close();
  }
}

/** Brings the schema to the current version (under the advisory lock, like any store opening it). */
export async function migratePostgres(url: string, schema: string | undefined): Promise<void> {
  const { PostgresStore } = await import('../stores/postgres/postgres-store.js');
  const store = await PostgresStore.open({
    connectionString: url,
    ...(schema === undefined ? {} : { schema }),
    listen: false,
    poolOptions: { connectionTimeoutMillis: 3_000, max: 1 },
  });
  await store.close();
}
