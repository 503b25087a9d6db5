import type * as Ioredis from 'ioredis';
import type { Redis } from 'ioredis';
import type { Clock } from '../../time/clock.js';
import { scoped } from '../../validate/scoped.js';
import { systemClock } from '../../time/system-clock.js';
import { createRedisClient, type RedisConnectionOptions } from './connection.js';
import { useDriverFor } from './script.js';
import { describeRedisTarget, parseRedisUrl, passwordOf } from './url.js';

/** Every option error names the option from `redisStore`. */
const check = scoped('redisStore');

export interface RedisStoreOptions {
  /**
   * `redis://[user:password@]host:port[/db]` (or `rediss://`). Credentials never appear in errors
   * or logs. A database the server does not have is an error (ConfigError naming it), not database
   * 0.
   * @defaultValue none; give either `url` or `client`
   */
  readonly url?: string;
  /**
   * An ioredis client you own instead of a URL; `close()` leaves it open.
   * @defaultValue none; give either `url` or `client`
   */
  readonly client?: Redis;
  /**
   * Every key starts with `{<prefix>:`. With the default, keys a store from
   * before the rename left under `lifeline` are moved under `faultline` first (docs/redis.md).
   * @defaultValue `faultline`
   */
  readonly prefix?: string;
  /**
   * Timeouts and reconnects for a client created from `url`.
   * @defaultValue the `RedisConnectionOptions` defaults
   */
  readonly connection?: RedisConnectionOptions;
  /**
   * Only for the bounded wait in `close()`.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * The ioredis module to use instead of the installed `ioredis` (for an aliased install, such as
   * `ioredis6: npm:ioredis@6`): it creates the client from `url` and sends the scripts.
   * @defaultValue `require('ioredis')`, loaded when the first store is created
   */
  readonly driver?: typeof Ioredis;
}

/** What the store runs on, from its options: checked, with the client made or adopted. */
export interface ResolvedRedisOptions {
  readonly prefix: string;
  /** True when the keys of a store from before the rename need no look (a prefix was given). */
  readonly legacyChecked: boolean;
  readonly clock: Clock;
  readonly client: Redis;
  readonly ownsClient: boolean;
  /** The server as errors may name it: no credentials. */
  readonly target: string;
  /** `host:port`, for "connection refused by ...". */
  readonly address: string;
  readonly database: number;
  /** Strings no error may carry (the password). */
  readonly secrets: (string | null | undefined)[];
}

/**
 * Checks the options (ConfigError for a bad one, credentials left out) and makes the client
 * from `url` or adopts the one given.
 */
export function resolveRedisOptions(options: RedisStoreOptions | string): ResolvedRedisOptions {
  if (typeof options === 'string') options = { url: options };
  check.plainObject('options', options);
  check.knownKeys('options', options, ['url', 'client', 'prefix', 'connection', 'clock', 'driver']);
  if (options.driver !== undefined && typeof options.driver?.Redis !== 'function')
    throw check.configError('driver', '(not an ioredis module)', 'the ioredis module');
  if ((options.url === undefined) === (options.client === undefined)) {
    throw check.configError(
      'url',
      options.url === undefined ? undefined : describeRedisTarget(options.url),
      'exactly one of url or client',
    );
  }
  if (
    options.url !== undefined &&
    (typeof options.url !== 'string' || !/^(redis|rediss|valkey|valkeys):\/\//.test(options.url))
  ) {
    throw check.configError(
      'url',
      typeof options.url === 'string' ? describeRedisTarget(options.url) : options.url,
      'a redis:// or rediss:// URL',
    );
  }
  // Parsed here so a bad port, no host or a database that is not a number is a ConfigError
  // (Node's own URL error keeps the whole URL, password included, in an enumerable field).
  const parsed = options.url === undefined ? undefined : parseRedisUrl(options.url);
  if (
    options.client !== undefined &&
    typeof (options.client as { evalsha?: unknown }).evalsha !== 'function'
  ) {
    throw check.configError('client', '(not an ioredis client)', 'an ioredis client');
  }
  const prefix = options.prefix ?? 'faultline';
  if (typeof prefix !== 'string' || prefix.length === 0)
    throw check.configError('prefix', prefix, 'a non-empty string');
  const common = {
    prefix,
    legacyChecked: options.prefix !== undefined,
    clock: options.clock ?? systemClock,
  };
  let resolved: ResolvedRedisOptions;
  if (options.url !== undefined && parsed !== undefined) {
    const url = options.url.replace(/^valkey(s?):/, 'redis$1:');
    resolved = {
      ...common,
      client: createRedisClient(url, options.connection, options.driver),
      ownsClient: true,
      target: describeRedisTarget(url),
      address: `${parsed.host}:${parsed.port}`,
      database: parsed.database,
      secrets: [passwordOf(url)],
    };
  } else {
    const client = options.client!;
    const address = `${client.options.host ?? '?'}:${client.options.port ?? '?'}`;
    resolved = {
      ...common,
      client,
      ownsClient: false,
      target: address,
      address,
      database: client.options.db ?? 0,
      secrets: [client.options.password],
    };
  }
  if (options.driver !== undefined) useDriverFor(resolved.client, options.driver);
  return resolved;
}
