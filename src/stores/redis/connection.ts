import type * as Ioredis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import { loadPeer } from '../../peers/optional-peer.js';
import { describeRedisTarget } from './url.js';

/** Defaults for clients faultline creates from a URL: no call waits forever, reconnects are quick. */
export interface RedisConnectionOptions {
  /**
   * A command that gets no answer in this time rejects. Covers a frozen server.
   * @defaultValue 5000 ms
   */
  readonly commandTimeoutMs?: number;
  /**
   * Connecting gives up after this long; reconnecting continues in the background.
   * @defaultValue 5000 ms
   */
  readonly connectTimeoutMs?: number;
  /**
   * Longest pause between reconnect attempts.
   * @defaultValue 1000 ms
   */
  readonly maxReconnectDelayMs?: number;
  /**
   * Passed to ioredis as they are (TLS, username, db, ...).
   * @defaultValue none
   */
  readonly ioredis?: RedisOptions;
}

export function createRedisClient(
  url: string,
  options: RedisConnectionOptions = {},
  driver?: typeof Ioredis,
): Redis {
  const maxDelay = options.maxReconnectDelayMs ?? 1_000;
  const { Redis: RedisClient } = driver ?? loadPeer<typeof Ioredis>('ioredis');
  const client: Redis = new RedisClient(url, {
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    // A command waits through a few reconnect attempts, then fails so the caller's plan decides.
    maxRetriesPerRequest: 3,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 10), maxDelay),
    enableAutoPipelining: true,
    // The connection name shows in CLIENT LIST; the URL (and its credentials) never does.
    connectionName: 'faultline',
    ...options.ioredis,
  });
  // ioredis emits 'error' on every failed reconnect; without a listener Node would crash the process.
  // The store reports failures through the calls that fail instead.
  client.on('error', () => {});
  Object.defineProperty(client, 'toString', {
    value: () => `Redis(${describeRedisTarget(url)})`,
    enumerable: false,
  });
  return client;
}
