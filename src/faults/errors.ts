import type { Fault, FaultCategory } from './fault.js';

/**
 * Base of every error faultline throws. Each one declares its own category, so `classify`
 * takes it at its word, and carries `retryAfterMs` when waiting would help.
 */
export abstract class FaultlineError extends Error {
  abstract readonly category: FaultCategory;
  abstract readonly retryable: boolean;
  readonly retryAfterMs?: number;
  /**
   * True when a local policy refused the call without running it (open breaker, full bulkhead,
   * no token, adaptive throttling): nothing was tried, so a durable worker does not charge an attempt.
   */
  readonly refusedLocally: boolean = false;

  constructor(message: string, options?: { cause?: unknown; retryAfterMs?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    if (options?.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * An optional peer dependency (a driver such as better-sqlite3 or ioredis, prom-client, pino…) is
 * needed for what was asked and is not installed. The message names the package and the command
 * that installs it; the `faultline` command exits with code 5 for it.
 */
export class MissingPeerError extends FaultlineError {
  readonly category = 'permanent' as const;
  readonly retryable = false;
  constructor(
    /** The npm package that is missing. */
    readonly packageName: string,
    /** The command that installs it, e.g. `npm install ioredis`. */
    readonly installCommand: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The optional dependency ${packageName} is not installed; install it with: ${installCommand}`,
      options,
    );
  }
}

/** A circuit breaker is open (or isolated) and refused the call without running it. */
export class BrokenCircuitError extends FaultlineError {
  override readonly refusedLocally = true;
  readonly category = 'unavailable' as const;
  readonly retryable = true;
  constructor(
    message = 'The circuit breaker is open: the call was not made',
    options?: { retryAfterMs?: number; cause?: unknown; isolated?: boolean },
  ) {
    super(message, options);
    this.isolated = options?.isolated ?? false;
  }
  /** True when a person isolated the breaker by hand; it stays open until reset. */
  readonly isolated: boolean;
}

/** A bulkhead had no free slot and no room in its queue. */
export class BulkheadRejectedError extends FaultlineError {
  override readonly refusedLocally = true;
  readonly category = 'unavailable' as const;
  readonly retryable = true;
  constructor(
    readonly maxConcurrent: number,
    readonly maxQueued: number,
  ) {
    super(
      `The bulkhead is full (${maxConcurrent} running, ${maxQueued} queued): the call was rejected`,
    );
  }
}

/** A rate limiter had no token and was told not to wait (or the wait was too long). */
export class RateLimitedError extends FaultlineError {
  override readonly refusedLocally = true;
  readonly category = 'rate_limit' as const;
  readonly retryable = true;
  constructor(retryAfterMs: number) {
    super(`The rate limit is reached: next token in ${Math.ceil(retryAfterMs)} ms`, {
      retryAfterMs,
    });
  }
}

/** An operation ran longer than its deadline. */
export class TimeoutError extends FaultlineError {
  readonly category = 'timeout' as const;
  readonly retryable = true;
  constructor(
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(`The operation timed out after ${timeoutMs} ms`, options);
  }
}

/**
 * A retry policy gave up. `cause` is the last error thrown, `lastFault` its classification;
 * the category is the last fault's, and it is not retryable: it was retried already.
 */
export class RetriesExhaustedError extends FaultlineError {
  readonly category: FaultCategory;
  readonly retryable = false;
  constructor(
    readonly attempts: number,
    readonly totalDelayMs: number,
    readonly lastFault: Fault,
    reason?: string,
  ) {
    super(
      `Gave up after ${attempts} attempt${attempts === 1 ? '' : 's'} (${Math.round(totalDelayMs)} ms waiting)` +
        `${reason ? `: ${reason}` : ''}; last error: ${lastFault.message}`,
      { cause: lastFault.cause },
    );
    this.category = lastFault.category;
  }
}

/** An option or input was invalid. Thrown where it enters, naming the option and its value. */
export class ConfigError extends FaultlineError {
  readonly category = 'validation' as const;
  readonly retryable = false;
  constructor(
    /** The option as the caller wrote it, dotted from the factory: `retry.maxAttempts`. */
    readonly option: string,
    readonly value: unknown,
    expected: string,
    /** What is wrong with it: an invalid value (the default) or an unknown option. */
    problem: 'invalid option' | 'unknown option' = 'invalid option',
  ) {
    super(
      problem === 'unknown option'
        ? `Unknown option ${option}: ${describeValue(value)} (${expected})`
        : `Invalid option ${option}: ${describeValue(value)} (expected ${expected})`,
    );
  }
}

/** Longest rendering of a value in an error message; a megabyte of input is not echoed back whole. */
export const MAX_DESCRIBED_LENGTH = 200;

/** A short, never-throwing rendering of any value for error messages. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(cutText(value, MAX_DESCRIBED_LENGTH));
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  try {
    return cutText(
      JSON.stringify(value) ?? Object.prototype.toString.call(value),
      MAX_DESCRIBED_LENGTH,
    );
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return 'an unreadable value';
    }
  }
}

/** `text` up to `max` characters, with a marker saying how much was cut. */
export function cutText(text: string, max: number): string {
  return text.length <= max
    ? text
    : `${text.slice(0, max)}… (${text.length - max} more characters cut)`;
}
