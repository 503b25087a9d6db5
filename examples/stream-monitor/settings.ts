import { ConfigError } from '../../src/faults/errors.js';
import { constantBackoff, exponentialBackoff } from '../../src/recovery/backoff.js';
import type { Backoff } from '../../src/recovery/backoff.js';

/**
 * The stream monitor system's environment, with its defaults:
 *
 * | variable | default | meaning |
 * |---|---|---|
 * | `CHECK_INTERVAL` | 30 | seconds between checks while the API works |
 * | `API_FAILURE_THRESHOLD` | 3 | consecutive failures that enter failure mode (fallback image) |
 * | `API_STABILITY_THRESHOLD` | 5 | consecutive successes that leave it |
 * | `API_MIN_RETRY_INTERVAL` | 10 | seconds: the first wait in failure mode |
 * | `API_MAX_RETRY_INTERVAL` | 300 | seconds: the longest wait in failure mode |
 * | `API_ENABLE_BACKOFF` | true | `false`: every wait in failure mode is the minimum |
 * | `API_FAIL_IMAGE_PATH` | — | the image the player shows while the API fails |
 * | `STATUS_API_TOKEN` | — | sent as `Authorization: Bearer …` |
 *
 * A bad value is a ConfigError naming the variable.
 */
export interface MonitorSettings {
  readonly intervalMs: number;
  readonly failureThreshold: number;
  readonly stabilityThreshold: number;
  readonly failingBackoff: Backoff;
  readonly backoffEnabled: boolean;
  readonly failImagePath: string | undefined;
  readonly token: string | undefined;
}

export function monitorSettings(
  env: Readonly<Record<string, string | undefined>> = process.env,
): MonitorSettings {
  const text = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const whole = (name: string, fallback: number) => {
    const value = text(name);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n))
      throw new ConfigError(name, value, 'a whole number >= 1');
    return n;
  };
  const minS = whole('API_MIN_RETRY_INTERVAL', 10);
  const maxS = whole('API_MAX_RETRY_INTERVAL', 300);
  if (maxS < minS)
    throw new ConfigError(
      'API_MAX_RETRY_INTERVAL',
      maxS,
      `a number >= API_MIN_RETRY_INTERVAL (${minS})`,
    );
  const enable = (text('API_ENABLE_BACKOFF') ?? 'true').toLowerCase();
  if (enable !== 'true' && enable !== 'false')
    throw new ConfigError('API_ENABLE_BACKOFF', enable, 'true or false');
  const backoffEnabled = enable === 'true';
  return {
    intervalMs: whole('CHECK_INTERVAL', 30) * 1_000,
    failureThreshold: whole('API_FAILURE_THRESHOLD', 3),
    stabilityThreshold: whole('API_STABILITY_THRESHOLD', 5),
    // The first wait in failure mode is the minimum, then it doubles up to the maximum; without
    // backoff every wait is the minimum.
    failingBackoff: backoffEnabled
      ? exponentialBackoff({
          initialMs: minS * 1_000,
          factor: 2,
          maxDelayMs: maxS * 1_000,
          jitter: 'none',
        })
      : constantBackoff(minS * 1_000),
    backoffEnabled,
    failImagePath: text('API_FAIL_IMAGE_PATH'),
    token: text('STATUS_API_TOKEN'),
  };
}
