import { type ScopedChecks, scoped } from '../validate/scoped.js';
import type { RandomSource } from './random.js';

/** Option errors of a schedule's methods (`scaled`); each factory names its own options. */
const check = scoped('backoff');

export type Jitter = 'none' | 'full' | 'equal' | 'decorrelated';

/**
 * A backoff schedule is a value: the delay before retry number `attempt` (1 = the first
 * retry). Schedules are shared by the retry policy, the breaker's half-open timing, the
 * health monitor and polling.
 */
export interface Backoff {
  readonly kind: 'constant' | 'linear' | 'exponential';
  /** Upper bound of any delay this schedule returns. */
  readonly maxDelayMs: number;
  /**
   * The delay before retry `attempt` (>= 1). `previousMs` is the delay returned for the
   * previous attempt (decorrelated jitter grows from it); `random` is the jitter source.
   */
  delay(attempt: number, previousMs?: number, random?: RandomSource): number;
  /** Lower and upper bounds of `delay(attempt)` whatever the random source says. */
  bounds(attempt: number): { readonly min: number; readonly max: number };
  /** The same schedule with every delay scaled by `factor` (still capped). */
  scaled(factor: number): Backoff;
}

export interface ConstantBackoffOptions {
  readonly delayMs: number;
  /**
   * Random spread of each delay.
   * @defaultValue 'none'
   */
  readonly jitter?: Jitter;
}

export interface LinearBackoffOptions {
  readonly initialMs: number;
  /**
   * Added per attempt.
   * @defaultValue initialMs
   */
  readonly stepMs?: number;
  /**
   * The longest delay.
   * @defaultValue Infinity (no cap)
   */
  readonly maxDelayMs?: number;
  /**
   * Random spread of each delay.
   * @defaultValue 'none'
   */
  readonly jitter?: Jitter;
}

export interface ExponentialBackoffOptions {
  /**
   * The first retry's delay before jitter.
   * @defaultValue 1000
   */
  readonly initialMs?: number;
  /**
   * Growth per attempt.
   * @defaultValue 2
   */
  readonly factor?: number;
  /**
   * The cap.
   * @defaultValue 30 000
   */
  readonly maxDelayMs?: number;
  /**
   * @defaultValue 'full': uniformly random between 0 and the exponential delay
   */
  readonly jitter?: Jitter;
}

const JITTERS: readonly Jitter[] = ['none', 'full', 'equal', 'decorrelated'];

class Schedule implements Backoff {
  constructor(
    readonly kind: Backoff['kind'],
    private readonly base: (attempt: number) => number,
    private readonly initialMs: number,
    readonly maxDelayMs: number,
    private readonly jitter: Jitter,
  ) {}

  /** The un-jittered delay for attempt n, capped. 0 × ∞ (a zero base at a huge attempt) is 0, not NaN. */
  private ceiling(attempt: number): number {
    const n = attempt >= 1 ? Math.floor(attempt) : 1;
    const raw = this.base(n);
    return raw >= 0 ? Math.min(this.maxDelayMs, raw) : 0;
  }

  delay(attempt: number, previousMs = 0, random: RandomSource = Math.random): number {
    const ceiling = this.ceiling(attempt);
    // Jittered values are clamped to their range: float rounding must not step over the cap.
    switch (this.jitter) {
      case 'none':
        return ceiling;
      case 'full':
        return Math.min(ceiling, random() * ceiling);
      case 'equal':
        return Math.min(ceiling, ceiling / 2 + random() * (ceiling / 2));
      case 'decorrelated': {
        // Grows from the previous delay: uniform in [initial, 3 × previous], capped.
        const low = Math.min(this.initialMs, this.maxDelayMs);
        const high = Math.min(
          this.maxDelayMs,
          Math.max(low, (previousMs > 0 ? previousMs : low) * 3),
        );
        return Math.min(high, low + random() * (high - low));
      }
    }
  }

  bounds(attempt: number): { min: number; max: number } {
    const ceiling = this.ceiling(attempt);
    switch (this.jitter) {
      case 'none':
        return { min: ceiling, max: ceiling };
      case 'full':
        return { min: 0, max: ceiling };
      case 'equal':
        return { min: ceiling / 2, max: ceiling };
      case 'decorrelated':
        return { min: Math.min(this.initialMs, this.maxDelayMs), max: this.maxDelayMs };
    }
  }

  scaled(factor: number): Backoff {
    check.nonNegativeNumber('factor', factor);
    if (factor === 1) return this;
    const maxDelayMs = this.maxDelayMs * factor;
    return new Schedule(
      this.kind,
      (n) => this.base(n) * factor,
      this.initialMs * factor,
      maxDelayMs,
      this.jitter,
    );
  }
}

function jitterOption(checks: ScopedChecks, value: unknown, fallback: Jitter): Jitter {
  return value === undefined ? fallback : checks.oneOf('jitter', value, JITTERS);
}

/** Options must be an object without unknown keys: a typo like `maxDelay` must not be silently ignored. */
function optionsObject(
  checks: ScopedChecks,
  value: unknown,
  keys: readonly string[],
): Record<string, unknown> {
  const opts = checks.plainObject('options', value);
  checks.knownKeys('options', opts, keys);
  return opts;
}

/** The same delay before every retry (`constantBackoff(250)`), optionally jittered. */
export function constantBackoff(options: ConstantBackoffOptions | number): Backoff {
  const check = scoped('constantBackoff');
  const opts =
    typeof options === 'number'
      ? { delayMs: options }
      : optionsObject(check, options, ['delayMs', 'jitter']);
  const delayMs = check.nonNegativeNumber('delayMs', opts.delayMs);
  const jitter = jitterOption(check, opts.jitter, 'none');
  return new Schedule('constant', () => delayMs, delayMs, delayMs, jitter);
}

/** `initialMs`, then `stepMs` more per retry, up to `maxDelayMs` (default: no cap). */
export function linearBackoff(options: LinearBackoffOptions): Backoff {
  const check = scoped('linearBackoff');
  optionsObject(check, options, ['initialMs', 'stepMs', 'maxDelayMs', 'jitter']);
  const initialMs = check.nonNegativeNumber('initialMs', options.initialMs);
  const stepMs = check.nonNegativeNumber('stepMs', options.stepMs ?? initialMs);
  const maxDelayMs = check.limit('maxDelayMs', options.maxDelayMs ?? Number.POSITIVE_INFINITY);
  const jitter = jitterOption(check, options.jitter, 'none');
  return new Schedule('linear', (n) => initialMs + stepMs * (n - 1), initialMs, maxDelayMs, jitter);
}

/**
 * `initialMs × factor^(attempt-1)`, capped at `maxDelayMs`, with jitter. Defaults: 1 s, ×2, 30 s,
 * full jitter. Invalid options throw ConfigError at once.
 */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  const check = scoped('exponentialBackoff');
  optionsObject(check, options, ['initialMs', 'factor', 'maxDelayMs', 'jitter']);
  const initialMs = check.nonNegativeNumber('initialMs', options.initialMs ?? 1000);
  const factor = check.nonNegativeNumber('factor', options.factor ?? 2);
  if (factor < 1)
    throw check.configError(
      'factor',
      factor,
      'a number >= 1 (a backoff that shrinks is not a backoff)',
    );
  const maxDelayMs = check.nonNegativeNumber('maxDelayMs', options.maxDelayMs ?? 30_000);
  if (maxDelayMs < initialMs)
    throw check.configError('maxDelayMs', maxDelayMs, `a number >= initialMs (${initialMs})`);
  const jitter = jitterOption(check, options.jitter, 'full');
  // Past ~1000 doublings the base is Infinity; min() with the (finite) cap keeps delays finite.
  return new Schedule(
    'exponential',
    (n) => initialMs * factor ** (n - 1),
    initialMs,
    maxDelayMs,
    jitter,
  );
}

/** True for a schedule made by one of the backoff constructors. */
export function isBackoff(value: unknown): value is Backoff {
  return value instanceof Schedule;
}
