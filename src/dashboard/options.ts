import type { IncomingMessage } from 'node:http';
import { scoped } from '../validate/scoped.js';
import type { DurableStore } from '../durable/store.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';

/** Every option error names the option from `dashboard`. */
const check = scoped('dashboard');

/** Decides whether a request may use the dashboard (your session, SSO header, IP allow-list...). */
export type DashboardAuth = (req: IncomingMessage) => boolean | Promise<boolean>;

export interface DashboardOptions {
  /**
   * The store to show. Give either `store` or `stores`.
   * @defaultValue none; give either `store` or `stores`
   */
  readonly store?: DurableStore;
  /**
   * Several stores by name (names appear on the page: never put credentials in them).
   * @defaultValue none; give either `store` or `stores`
   */
  readonly stores?: Readonly<Record<string, DurableStore>>;
  /**
   * The path the handler is mounted under, e.g. `/ops/queues`.
   * @defaultValue the root
   */
  readonly basePath?: string;
  /**
   * Show everything, act on nothing: no action buttons, every POST refused.
   * @defaultValue false
   */
  readonly readOnly?: boolean;
  /**
   * Called for every request; false answers 403.
   * @defaultValue none: every request is let through (bind to loopback, or set `auth` or `token`)
   */
  readonly auth?: DashboardAuth;
  /**
   * A shared secret: requests need `Authorization: Bearer <token>` or one visit with
   * `?token=<token>` (sets a session cookie).
   * @defaultValue none
   */
  readonly token?: string;
  /**
   * How often an open, visible page refreshes its counts and lists.
   * @defaultValue 5,000 ms; 0 = never
   */
  readonly refreshMs?: number;
  /**
   * Dead letters per page.
   * @defaultValue 50
   */
  readonly pageSize?: number;
  /**
   * Times on the page and the cache of store reads.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

export interface ResolvedOptions {
  readonly stores: ReadonlyMap<string, DurableStore>;
  /** The only store's name when there is one: its pages need no store in the path. */
  readonly single: boolean;
  readonly basePath: string;
  readonly readOnly: boolean;
  readonly auth: DashboardAuth | undefined;
  readonly token: string | undefined;
  readonly refreshMs: number;
  readonly pageSize: number;
  readonly clock: Clock;
}

function checkStore(option: string, value: unknown): DurableStore {
  const store = value as Partial<DurableStore> | null;
  if (
    typeof store !== 'object' ||
    store === null ||
    typeof store.listDead !== 'function' ||
    typeof store.stats !== 'function'
  ) {
    throw check.configError(
      option,
      value,
      'a DurableStore (MemoryStore, SqliteStore, RedisStore...)',
    );
  }
  return store as DurableStore;
}

export function resolveOptions(options: DashboardOptions): ResolvedOptions {
  const opts = check.plainObject('options', options);
  check.knownKeys('dashboard', opts, [
    'store',
    'stores',
    'basePath',
    'readOnly',
    'auth',
    'token',
    'refreshMs',
    'pageSize',
    'clock',
  ]);
  if ((options.store === undefined) === (options.stores === undefined))
    throw check.configError('store', options.store, 'exactly one of store or stores');
  const stores = new Map<string, DurableStore>();
  if (options.store !== undefined) stores.set('default', checkStore('store', options.store));
  else {
    const named = check.plainObject('stores', options.stores);
    for (const [name, store] of Object.entries(named)) {
      if (name.length === 0 || name.length > 100)
        throw check.configError('stores', name, 'names of 1 to 100 characters');
      stores.set(name, checkStore(`stores.${name}`, store));
    }
    if (stores.size === 0) throw check.configError('stores', options.stores, 'at least one store');
  }
  const basePath = options.basePath ?? '';
  if (
    typeof basePath !== 'string' ||
    (basePath !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath))
  ) {
    throw check.configError(
      'basePath',
      basePath,
      "'' or a path like /ops/queues (no trailing slash)",
    );
  }
  if (options.readOnly !== undefined && typeof options.readOnly !== 'boolean')
    throw check.configError('readOnly', options.readOnly, 'true or false');
  if (options.auth !== undefined) check.fn('auth', options.auth);
  if (
    options.token !== undefined &&
    (typeof options.token !== 'string' || options.token.length < 16 || /\s/.test(options.token))
  ) {
    // The value is a secret: never echo it.
    throw check.configError(
      'token',
      '(hidden)',
      'a string of at least 16 characters without spaces',
    );
  }
  return {
    stores,
    single: options.store !== undefined,
    basePath,
    readOnly: options.readOnly ?? false,
    auth: options.auth,
    token: options.token,
    refreshMs: check.nonNegativeInteger('refreshMs', options.refreshMs ?? 5_000),
    pageSize: Math.min(500, check.positiveInteger('pageSize', options.pageSize ?? 50)),
    clock: options.clock ?? systemClock,
  };
}
