import type pg from 'pg';
import { passwordOf, redactCredentials } from '../../config/redact.js';
import { loadPeer } from '../../peers/optional-peer.js';
import { scoped } from '../../validate/scoped.js';

/** Option errors name the option from `postgresStore`. */
const check = scoped('postgresStore');

/** The one method of node-postgres the store needs from a pool, a client or a caller's transaction. */
export interface Queryable {
  query(
    text: string | { readonly name: string; readonly text: string; readonly values?: unknown[] },
    values?: unknown[],
  ): Promise<{ rows: unknown[]; rowCount?: number | null }>;
}

/** Where the store's connections come from, and whether closing the store closes them. */
export interface PoolHandle {
  readonly pool: pg.Pool;
  /** True when the store created the pool (from a connection string or options) and must end it. */
  readonly owned: boolean;
  /** `postgres://host:port/database`, safe to print. */
  readonly target: string;
  /** Passwords to scrub from any error text. */
  readonly secrets: readonly (string | undefined)[];
}

/**
 * Defaults for a pool faultline creates: no query waits forever (a frozen server fails the call
 * so the worker's plan decides), connecting gives up quickly, the server sees who we are.
 */
const POOL_DEFAULTS: pg.PoolConfig = {
  max: 10,
  connectionTimeoutMillis: 5_000,
  query_timeout: 10_000,
  idleTimeoutMillis: 30_000,
  keepAlive: true,
  application_name: 'faultline',
};

export function isPostgresUrl(text: unknown): text is string {
  return typeof text === 'string' && /^(postgres|postgresql):\/\//i.test(text);
}

/** The parts of a connection string that are safe to show: scheme, host, port and database. */
export function describePostgresTarget(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname.length > 1 ? parsed.pathname : ''}`;
  } catch {
    return redactCredentials(url);
  }
}

function describeConfig(config: pg.PoolConfig): string {
  if (typeof config.connectionString === 'string')
    return describePostgresTarget(config.connectionString);
  return `postgres://${config.host ?? 'localhost'}:${config.port ?? 5432}/${config.database ?? ''}`;
}

/** Resolves the store's connection options to a pool: yours (`pool`), or one made from a connection string and/or pool options. */
export function resolvePool(options: {
  connectionString?: unknown;
  pool?: unknown;
  poolOptions?: unknown;
}): PoolHandle {
  const own = options.connectionString !== undefined || options.poolOptions !== undefined;
  if (own === (options.pool !== undefined)) {
    throw check.configError(
      'connectionString',
      isPostgresUrl(options.connectionString)
        ? describePostgresTarget(options.connectionString)
        : options.connectionString,
      'either pool, or connectionString and/or poolOptions',
    );
  }
  if (options.pool !== undefined) {
    const pool = options.pool as pg.Pool;
    if (
      typeof pool !== 'object' ||
      pool === null ||
      typeof pool.connect !== 'function' ||
      typeof pool.query !== 'function'
    ) {
      throw check.configError('pool', '(not a pg.Pool)', 'a pg.Pool');
    }
    const config = (pool as { options?: pg.PoolConfig }).options ?? {};
    return { pool, owned: false, target: describeConfig(config), secrets: secretsOf(config) };
  }
  if (
    options.poolOptions !== undefined &&
    (typeof options.poolOptions !== 'object' || options.poolOptions === null)
  ) {
    throw check.configError('poolOptions', options.poolOptions, 'pg.Pool options');
  }
  const config: pg.PoolConfig = { ...(options.poolOptions as pg.PoolConfig | undefined) };
  if (options.connectionString !== undefined) {
    if (!isPostgresUrl(options.connectionString)) {
      throw check.configError(
        'connectionString',
        typeof options.connectionString === 'string'
          ? redactCredentials(options.connectionString)
          : options.connectionString,
        'a postgres:// or postgresql:// URL',
      );
    }
    if (!URL.canParse(options.connectionString)) {
      // node-postgres would throw a bare "Invalid URL" TypeError at the first query instead.
      throw check.configError(
        'connectionString',
        redactCredentials(options.connectionString),
        'a valid URL (host, a port from 1 to 65535, percent-encoded special characters in the user and password)',
      );
    }
    config.connectionString = options.connectionString;
  }
  // Loaded only now: importing faultline/postgres never fails for a missing pg (MissingPeerError here).
  const { Pool } = loadPeer<typeof pg>('pg');
  const pool = new Pool({ ...POOL_DEFAULTS, ...config });
  // An idle connection that dies (server restart, pg_terminate_backend) is reported here; without a
  // listener Node would crash the process. The pool replaces it; calls that fail report themselves.
  pool.on('error', () => {});
  return { pool, owned: true, target: describeConfig(config), secrets: secretsOf(config) };
}

function secretsOf(config: pg.PoolConfig): (string | undefined)[] {
  return [
    typeof config.password === 'string' ? config.password : undefined,
    typeof config.connectionString === 'string' ? passwordOf(config.connectionString) : undefined,
  ];
}

/**
 * The one way the store checks a connection out of the pool (transactions, migrations). While it
 * is out, an 'error' listener is on it: a connection that dies then (server restart,
 * pg_terminate_backend) would otherwise crash the process; the call in flight fails by itself.
 * A connection that failed is destroyed rather than returned.
 */
export async function withClient<T>(
  pool: pg.Pool,
  call: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let broken: unknown;
  const onError = (error: unknown) => {
    broken = error;
  };
  const client = await connectListening(pool, onError);
  try {
    return await call(client);
  } finally {
    client.off('error', onError);
    client.release(broken instanceof Error ? broken : undefined);
  }
}

/**
 * `pool.connect()` with `onError` on the connection from the moment the pool hands it over. Not
 * after `await pool.connect()`: the pool drops its own listener synchronously, and the
 * ReadyForQuery that completes a new connection may share its chunk with a FATAL (a backend
 * terminated as it started), which node-postgres emits before any awaiting caller resumes —
 * unhandled, it ended the process. The callback form runs in that same tick.
 */
export function connectListening(
  pool: pg.Pool,
  onError: (error: Error) => void,
): Promise<pg.PoolClient> {
  return new Promise((resolve, reject) => {
    pool.connect((error, client) => {
      if (error !== undefined && error !== null) reject(error);
      else if (client === undefined) reject(new Error('the pool gave no connection'));
      else {
        client.on('error', onError);
        resolve(client);
      }
    });
  });
}
