import type { DurableStore } from '../../src/durable/store.js';
import { PostgresStore } from '../../src/stores/postgres/index.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';

/**
 * How the fault harness reaches a store, in the parent and in every worker process. A new
 * store plugs in here: a spec (plain JSON, handed to child processes), `openStore` for it, and
 * in `adapters.ts` a factory that creates one (and, for a server, the control to freeze,
 * restart and route it through the fault proxy).
 */
export type StoreSpec =
  | { readonly kind: 'sqlite'; readonly file: string }
  | {
      readonly kind: 'redis';
      readonly url: string;
      readonly prefix: string;
      readonly commandTimeoutMs: number;
    }
  | {
      readonly kind: 'postgres';
      readonly url: string;
      readonly schema: string;
      /** Names the connections, so a scenario can terminate the workers' backends and no others. */
      readonly applicationName: string;
      readonly queryTimeoutMs: number;
    };

export function openStore(spec: StoreSpec): DurableStore {
  switch (spec.kind) {
    case 'sqlite':
      return new SqliteStore(spec.file);
    case 'redis':
      return new RedisStore({
        url: spec.url,
        prefix: spec.prefix,
        connection: { commandTimeoutMs: spec.commandTimeoutMs },
      });
    case 'postgres':
      return new PostgresStore({
        connectionString: spec.url,
        schema: spec.schema,
        poolOptions: {
          application_name: spec.applicationName,
          query_timeout: spec.queryTimeoutMs,
          connectionTimeoutMillis: spec.queryTimeoutMs,
        },
      });
  }
}
