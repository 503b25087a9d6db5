import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import { FAULT_CATEGORIES } from '../faults/fault.js';
import { type Backoff, isBackoff } from '../recovery/backoff.js';
import { defaultPlan, RecoveryPlan } from '../recovery/plan.js';
import type { RandomSource } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { scoped } from '../validate/scoped.js';
import type { RetryBudget } from './retry-budget.js';

/** Every option error names the option from `retry`. */
const check = scoped('retry');

/** Options of `retry()` and `RetryPolicy.with()`; all optional. */
export interface RetryOptions {
  /**
   * Attempts in all, the first included.
   * @defaultValue no limit here (the plan's per-category limits apply)
   */
  readonly maxAttempts?: number;
  /**
   * Give up rather than start a wait that would end later than this after the first attempt began.
   * @defaultValue no limit here (the plan's per-category limits apply)
   */
  readonly maxElapsedMs?: number;
  /**
   * Delays between attempts for `retry` decisions. Never shorter than a server's Retry-After.
   * @defaultValue the plan's delays
   */
  readonly backoff?: Backoff;
  /**
   * Decides, per fault, whether to retry, wait, skip or abort.
   * @defaultValue `defaultPlan`
   */
  readonly plan?: RecoveryPlan;
  /**
   * Turns thrown values into faults.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * Give up instead of honouring a Retry-After longer than this.
   * @defaultValue no limit beyond the plan's
   */
  readonly maxRetryAfterMs?: number;
  /**
   * A budget shared with other retry policies; when spent, the original error is thrown at once.
   * @defaultValue `undefined` (no budget)
   */
  readonly budget?: RetryBudget;
  /**
   * Stretches backoff delays while a dependency struggles: an adaptive throttle
   * (`retry({ delayFactor: throttle })` uses its `delayFactor()`, 1 when all is well, up to its
   * `maxDelayFactor`), or any function returning a factor. Read once per retry, never on a
   * success. A server's Retry-After is never scaled, only the backoff.
   * @defaultValue `undefined` (factor 1)
   */
  readonly delayFactor?: DelayFactorSource;
  /**
   * The clock for waits and elapsed time (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Jitter source for `backoff` (seed it in tests).
   * @defaultValue `Math.random`
   */
  readonly random?: RandomSource;
}

/** Where a retry reads its delay factor: `{ delayFactor() }` (an adaptive throttle) or a function. */
export type DelayFactorSource = { delayFactor(): number } | (() => number);

export const RETRY_OPTION_KEYS = [
  'maxAttempts',
  'maxElapsedMs',
  'backoff',
  'plan',
  'classify',
  'maxRetryAfterMs',
  'budget',
  'delayFactor',
  'clock',
  'random',
];

/** Retry options validated, with their defaults applied. */
export interface RetrySettings {
  readonly maxAttempts: number;
  readonly maxElapsedMs: number;
  readonly maxRetryAfterMs: number;
  readonly backoff: Backoff | undefined;
  readonly plan: RecoveryPlan;
  readonly classify: ClassifyFunction;
  readonly budget: RetryBudget | undefined;
  readonly delayFactor: (() => number) | undefined;
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Whether elapsed time matters (a finite limit here or in the plan): only then is it read. */
  readonly timed: boolean;
}

/** Validates retry options (ConfigError on the first bad one) and applies defaults. */
export function retrySettings(options: RetryOptions): RetrySettings {
  check.knownKeys('retry', check.plainObject('retry', options), RETRY_OPTION_KEYS);
  const infinity = Number.POSITIVE_INFINITY;
  const maxAttempts = check.countLimit('maxAttempts', options.maxAttempts ?? infinity);
  const maxElapsedMs = check.limit('maxElapsedMs', options.maxElapsedMs ?? infinity);
  const maxRetryAfterMs = check.limit('maxRetryAfterMs', options.maxRetryAfterMs ?? infinity);
  if (options.backoff !== undefined && !isBackoff(options.backoff)) {
    throw check.configError(
      'backoff',
      options.backoff,
      'a backoff made by exponentialBackoff(), linearBackoff() or constantBackoff()',
    );
  }
  if (options.plan !== undefined && !(options.plan instanceof RecoveryPlan)) {
    throw check.configError('plan', options.plan, 'a RecoveryPlan made by recoveryPlan()');
  }
  const plan = options.plan ?? defaultPlan;
  const classify =
    options.classify === undefined
      ? defaultClassify
      : check.fn<ClassifyFunction>('classify', options.classify);
  if (
    options.budget !== undefined &&
    (typeof options.budget !== 'object' || typeof options.budget.tryRetry !== 'function')
  ) {
    throw check.configError('budget', options.budget, 'a RetryBudget made by retryBudget()');
  }
  const delayFactor = delayFactorFrom(options.delayFactor);
  if (
    options.clock !== undefined &&
    (typeof options.clock !== 'object' || typeof options.clock.sleep !== 'function')
  ) {
    throw check.configError('clock', options.clock, 'a Clock');
  }
  const random =
    options.random === undefined ? Math.random : check.fn<RandomSource>('random', options.random);
  return {
    maxAttempts,
    maxElapsedMs,
    maxRetryAfterMs,
    backoff: options.backoff,
    plan,
    classify,
    budget: options.budget,
    delayFactor,
    clock: options.clock ?? systemClock,
    random,
    timed:
      maxElapsedMs !== infinity ||
      FAULT_CATEGORIES.some((category) => plan.rule(category).maxElapsedMs !== infinity),
  };
}

function delayFactorFrom(source: DelayFactorSource | undefined): (() => number) | undefined {
  if (source === undefined) return undefined;
  if (typeof source === 'function') return source;
  if (typeof source === 'object' && source !== null && typeof source.delayFactor === 'function')
    return () => source.delayFactor();
  throw check.configError(
    'delayFactor',
    source,
    'an adaptive throttle (adaptive()) or a function returning a factor',
  );
}
