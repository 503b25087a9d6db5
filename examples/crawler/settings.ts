import { redactUrl } from '../../src/config/redact.js';
import { ConfigError } from '../../src/faults/errors.js';

/**
 * The crawler system's environment: `MAX_RETRIES` (5), `INITIAL_BACKOFF` (1.0 s), `VALKEY_URL`
 * (the queue's server; unset here = a local SQLite file) and `VALKEY_MAX_CONNECTIONS` (10).
 * A bad value is a ConfigError naming the variable; a URL's password never appears in it.
 */
export interface CrawlerSettings {
  readonly maxRetries: number;
  readonly initialBackoffMs: number;
  readonly valkeyUrl: string | undefined;
  /**
   * The most connections the crawler may open to Valkey. A faultline RedisStore uses one
   * pipelined connection, so any value >= 1 is met; it is checked so a typo is not ignored.
   */
  readonly valkeyMaxConnections: number;
}

export function crawlerSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): CrawlerSettings {
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const whole = (name: string, fallback: number, min: number) => {
    const value = text(name);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new ConfigError(name, value, `a whole number >= ${min}`);
    }
    return Number(value);
  };
  const backoff = text('INITIAL_BACKOFF');
  let initialBackoffMs = 1_000;
  if (backoff !== undefined) {
    if (!/^\d+(\.\d+)?$/.test(backoff) || Number(backoff) <= 0 || Number(backoff) > 3_600) {
      throw new ConfigError(
        'INITIAL_BACKOFF',
        backoff,
        'seconds, a number > 0 and <= 3600 (e.g. 1.0)',
      );
    }
    initialBackoffMs = Math.round(Number(backoff) * 1_000);
  }
  const url = text('VALKEY_URL');
  if (url !== undefined && !/^(redis|rediss|valkey):\/\/[^/\s]/.test(url)) {
    throw new ConfigError(
      'VALKEY_URL',
      redactUrl(url),
      'redis://[user:password@]host:port[/db] (valkey:// and rediss:// too)',
    );
  }
  return {
    maxRetries: whole('MAX_RETRIES', 5, 0),
    initialBackoffMs,
    valkeyUrl: url === undefined ? undefined : url.replace(/^valkey:\/\//, 'redis://'),
    valkeyMaxConnections: whole('VALKEY_MAX_CONNECTIONS', 10, 1),
  };
}
