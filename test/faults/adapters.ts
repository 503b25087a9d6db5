import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DurableStore } from '../../src/durable/store.js';
import { type OwnRedisServer, startRedisServer } from '../redis/redis-server.js';
import { postgresAdapter } from './adapters-postgres.js';
import { type FaultProxy, startProxy } from './proxy.js';
import { openStore, type StoreSpec } from './stores.js';

/**
 * One store as the fault harness sees it: the spec worker processes open, a store for the
 * parent's own bookkeeping, and — for a store with a server — the controls to freeze and
 * restart it and the proxy its workers go through. Adding PostgreSQL means one more factory
 * here (a private server from initdb/pg_ctl, a proxy in front of it) and one case in stores.ts.
 */
export interface StoreAdapter {
  readonly name: string;
  /** What workers open: through the proxy when there is one. */
  readonly spec: StoreSpec;
  readonly server?: { freeze(): void; thaw(): void; restart(): Promise<void> };
  readonly proxy?: FaultProxy;
  /** PostgreSQL: terminates the workers' backends (pg_terminate_backend); resolves with how many. */
  readonly terminateWorkers?: () => Promise<number>;
  /** A store on the direct path, for enqueueing and auditing. */
  readonly store: DurableStore;
  close(): Promise<void>;
}

export type AdapterFactory = () => Promise<StoreAdapter>;

export const sqliteAdapter: AdapterFactory = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-faults-'));
  const spec: StoreSpec = { kind: 'sqlite', file: join(dir, 'faults.db') };
  const store = openStore(spec);
  return {
    name: 'sqlite',
    spec,
    store,
    close: async () => {
      await store.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const redisAdapter: AdapterFactory = async () => {
  const server: OwnRedisServer = await startRedisServer();
  const proxy = await startProxy(server.port);
  const prefix = 'faults';
  const store = openStore({ kind: 'redis', url: server.url, prefix, commandTimeoutMs: 5_000 });
  return {
    name: 'redis',
    spec: {
      kind: 'redis',
      url: `redis://127.0.0.1:${proxy.port}`,
      prefix,
      commandTimeoutMs: 5_000,
    },
    server: {
      freeze: () => server.freeze(),
      thaw: () => server.thaw(),
      restart: () => server.restart('SIGKILL'),
    },
    proxy,
    store,
    close: async () => {
      await store.close().catch(() => undefined);
      await proxy.close();
      await server.stop();
    },
  };
};

export const ADAPTERS: Record<string, AdapterFactory> = {
  sqlite: sqliteAdapter,
  redis: redisAdapter,
  postgres: postgresAdapter,
};
