import { ConfigError } from '../faults/errors.js';
import { type FaultCategory, isFaultCategory } from '../faults/fault.js';
import type { Clock } from '../time/clock.js';
import { closest } from './nearest.js';

/**
 * Option checks used at construction. Each throws a ConfigError naming the option and the
 * value, so bad input fails where it enters rather than deep inside a retry loop.
 */

export function nonNegativeNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new ConfigError(option, value, 'a finite number >= 0');
  }
  return value;
}

export function positiveNumber(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ConfigError(option, value, 'a finite number > 0');
  }
  return value;
}

/** A finite number >= 0, or Infinity (for "no limit"). */
export function limit(option: string, value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return nonNegativeNumber(option, value);
}

export function nonNegativeInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ConfigError(option, value, 'a whole number >= 0');
  }
  return value;
}

export function positiveInteger(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(option, value, 'a whole number >= 1');
  }
  return value;
}

/** A whole number >= 1, or Infinity. */
export function countLimit(option: string, value: unknown): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  return positiveInteger(option, value);
}

export function ratio(option: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new ConfigError(option, value, 'a number from 0 to 1');
  }
  return value;
}

export function oneOf<T extends string>(option: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(
      option,
      value,
      `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`,
    );
  }
  return value as T;
}

export function category(option: string, value: unknown): FaultCategory {
  if (!isFaultCategory(value)) throw new ConfigError(option, value, 'a fault category');
  return value;
}

export function fn<T extends (...args: never[]) => unknown>(option: string, value: unknown): T {
  if (typeof value !== 'function') throw new ConfigError(option, value, 'a function');
  return value as T;
}

/**
 * Rejects keys a caller did not mean (a typo like `maxAtempts` should not be silently ignored):
 * the error names `<option>.<key>`, says "unknown option" and suggests the nearest known name.
 */
export function knownKeys(option: string, value: object, allowed: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) {
      const near = closest(key, allowed);
      throw new ConfigError(
        `${option}.${key}`,
        (value as Record<string, unknown>)[key],
        `${near ? `did you mean ${option}.${near}? ` : ''}known: ${allowed.join(', ')}`,
        'unknown option',
      );
    }
  }
}

export function plainObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(option, value, 'an object');
  }
  return value as Record<string, unknown>;
}

/** A Clock: `now`, `wallTime`, `sleep` and `schedule`, all functions (a `{}` would fail much later). */
export function clock(option: string, value: unknown): Clock {
  const candidate = value as Partial<Record<keyof Clock, unknown>> | null;
  if (typeof candidate !== 'object' || candidate === null)
    throw new ConfigError(option, value, 'a Clock (now, wallTime, sleep, schedule)');
  for (const method of ['now', 'wallTime', 'sleep', 'schedule'] as const) {
    if (typeof candidate[method] !== 'function')
      throw new ConfigError(
        option,
        value,
        `a Clock (now, wallTime, sleep, schedule); ${method} is missing`,
      );
  }
  return value as Clock;
}

/** Longest delay a Node timer takes; a longer one fires after 1 ms instead. */
export const MAX_TIMER_MS = 2_147_483_647;

/** An interval in ms from `min` to the longest timer, or Infinity for "never". */
export function intervalOrNever(option: string, value: unknown, min: number): number {
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > MAX_TIMER_MS) {
    throw new ConfigError(
      option,
      value,
      `a number of ms from ${min.toLocaleString('en-US')} to ${MAX_TIMER_MS.toLocaleString('en-US')}, or Infinity (never)`,
    );
  }
  return value;
}

/** A true/false flag; anything else (`'x'`, `1`) is a slip, not a yes. */
export function boolean(option: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new ConfigError(option, value, 'true or false');
  return value;
}
