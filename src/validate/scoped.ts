import { ConfigError } from '../faults/errors.js';
import * as checks from './validate.js';

/**
 * The option checks of one factory: the same functions as `validate.ts`, but every ConfigError
 * they throw names the option the dotted way, from the factory the user called —
 * `retry.maxAttempts`, `worker.leaseMs`, `redisStore.url` — whichever file the check is in.
 * A file writes the names as they appear in its options object (`maxAttempts`,
 * `trigger.size`), or `options` for the object itself.
 */
export type ScopedChecks = typeof checks & {
  /** The factory's name: the first part of every option name. */
  readonly scope: string;
  /** A ConfigError for an option of this factory (for checks the shared ones do not cover). */
  configError(
    option: string,
    value: unknown,
    expected: string,
    problem?: 'invalid option' | 'unknown option',
  ): ConfigError;
};

/** `maxAttempts` → `retry.maxAttempts`; `options` → `retry`; an already dotted name is kept. */
export function scopedName(scope: string, option: string): string {
  if (option === scope || option.startsWith(`${scope}.`) || option.startsWith(`${scope}[`))
    return option;
  if (option === 'options') return scope;
  if (option.startsWith('options.')) return `${scope}${option.slice('options'.length)}`;
  return `${scope}.${option}`;
}

export function scoped(scope: string): ScopedChecks {
  const out: Record<string, unknown> = { scope };
  for (const [key, value] of Object.entries(checks)) {
    out[key] =
      typeof value === 'function'
        ? (option: string, ...rest: unknown[]) =>
            (value as (option: string, ...rest: unknown[]) => unknown)(
              scopedName(scope, option),
              ...rest,
            )
        : value;
  }
  out.configError = (
    option: string,
    value: unknown,
    expected: string,
    problem?: 'invalid option' | 'unknown option',
  ) => new ConfigError(scopedName(scope, option), value, expected, problem);
  return out as ScopedChecks;
}
