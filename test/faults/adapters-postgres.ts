import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { PrivateServer } from '../postgres/private-server.js';
import type { AdapterFactory } from './adapters.js';
import { startProxy } from './proxy.js';
import { openStore, type StoreSpec } from './stores.js';

const run = promisify(execFile);

/** The workers' connections carry this name; the parent's own (auditing) connections do not. */
const WORKERS_APP = 'faultline-faults-worker';

/**
 * PostgreSQL in the fault matrix: a private cluster per run (initdb + pg_ctl on a free port,
 * never the machine's shared server), workers through the fault proxy, the parent on the direct
 * path. Freezing stops the postmaster and every backend (they are separate processes).
 */
export const postgresAdapter: AdapterFactory = async () => {
  const server = await PrivateServer.create();
  const proxy = await startProxy(server.port);
  const schema = 'faults';
  const direct = (applicationName: string): StoreSpec => ({
    kind: 'postgres',
    url: server.url,
    schema,
    applicationName,
    queryTimeoutMs: 5_000,
  });
  const store = openStore(direct('faultline-faults-audit'));
  // The schema exists before any worker starts (they would race to migrate it otherwise).
  await store.ping();
  const admin = new pg.Pool({ connectionString: server.url, max: 1 });
  admin.on('error', () => {});
  return {
    name: 'postgres',
    spec: {
      ...direct(WORKERS_APP),
      url: `postgres://postgres@127.0.0.1:${proxy.port}/postgres`,
    },
    server: {
      freeze: () => server.signal('SIGSTOP'),
      thaw: () => server.signal('SIGCONT'),
      // A crash and a start on the WAL, without blocking the parent's loop meanwhile.
      restart: async () => {
        await pgCtl(server, ['-m', 'immediate', '-w', '-t', '60', 'restart']);
      },
    },
    proxy,
    terminateWorkers: async () => {
      const { rows } = await admin.query(
        'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [WORKERS_APP],
      );
      return (rows[0] as { n: number }).n;
    },
    store,
    close: async () => {
      await store.close().catch(() => undefined);
      await admin.end().catch(() => undefined);
      await proxy.close();
      server.destroy();
    },
  };
};

/** pg_ctl as the cluster's owner (as root: the `postgres` user, since pg_ctl refuses root). */
async function pgCtl(server: PrivateServer, args: string[]): Promise<void> {
  // synchronous_commit stays on (see private-server.ts): the restart must keep what was acknowledged.
  const options = `-p ${server.port} -k ${server.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c shared_buffers=16MB`;
  const full = [
    '-D',
    join(server.dir, 'data'),
    '-o',
    options,
    '-l',
    join(server.dir, 'log'),
    ...args,
  ];
  const asPostgres = process.getuid?.() === 0;
  await run(
    asPostgres ? 'runuser' : 'pg_ctl',
    asPostgres ? ['-u', 'postgres', '--', 'pg_ctl', ...full] : full,
    {
      cwd: server.dir,
    },
  );
}
