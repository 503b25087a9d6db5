import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import type { Fault, FaultCategory } from '../faults/fault.js';
import { type Backoff, isBackoff } from '../recovery/backoff.js';
import type { RandomSource } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { scoped } from '../validate/scoped.js';
import type { BreakerTiming } from './breaker-state.js';
import {
  type BreakerTrigger,
  createTrigger,
  DEFAULT_TRIGGER,
  type TriggerStrategy,
} from './breaker-trigger.js';

/** Every option error names the option from `circuitBreaker`. */
const check = scoped('circuitBreaker');

/** Options of `circuitBreaker()`; all optional. */
export interface CircuitBreakerOptions {
  /**
   * What opens the circuit: failures in a row, or a failure (or slow-call) rate over a count or
   * time window.
   * @defaultValue `{ kind: 'consecutive', failures: 5 }`
   */
  readonly trigger?: BreakerTrigger;
  /**
   * How long the circuit stays open before a probe: fixed ms, or a backoff whose attempt is the
   * number of opens in a row (so each failed probe waits longer).
   * @defaultValue `30_000`
   */
  readonly halfOpenAfter?: number | Backoff;
  /**
   * Probes let through at the same time in half-open.
   * @defaultValue `1`
   */
  readonly maxProbes?: number;
  /**
   * Successful probes needed to close again.
   * @defaultValue `1`
   */
  readonly probesToClose?: number;
  /**
   * A call that takes at least this long is slow (counts for `slowCallRate`, or as a failure for
   * `consecutive`).
   * @defaultValue `undefined` (calls are not timed)
   */
  readonly slowCallMs?: number;
  /**
   * Fault categories that do not count against the circuit. Not together with `countsAsFailure`.
   * @defaultValue `DEFAULT_IGNORED_CATEGORIES` (`validation`, `permanent`, `cancelled`)
   */
  readonly ignoredCategories?: readonly FaultCategory[];
  /**
   * Decides per fault whether it counts, instead of `ignoredCategories`.
   * @defaultValue `undefined` (`ignoredCategories` decides)
   */
  readonly countsAsFailure?: (fault: Fault) => boolean;
  /**
   * Turns thrown values into faults.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * The clock for open periods, slow calls and time windows (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Jitter source for a `halfOpenAfter` backoff (seed it in tests).
   * @defaultValue `Math.random`
   */
  readonly random?: RandomSource;
  /**
   * A name for descriptions and events, e.g. the upstream it protects.
   * @defaultValue `undefined`
   */
  readonly name?: string;
}

/** Validation, permanent and cancelled faults say nothing about the dependency's health. */
export const DEFAULT_IGNORED_CATEGORIES: readonly FaultCategory[] = Object.freeze([
  'validation',
  'permanent',
  'cancelled',
]);
const DEFAULT_IGNORED_SET: ReadonlySet<FaultCategory> = new Set(DEFAULT_IGNORED_CATEGORIES);
const countsByDefault = (fault: Fault): boolean => !DEFAULT_IGNORED_SET.has(fault.category);
const OPTION_KEYS = [
  'trigger',
  'halfOpenAfter',
  'maxProbes',
  'probesToClose',
  'slowCallMs',
  'ignoredCategories',
  'countsAsFailure',
  'classify',
  'clock',
  'random',
  'name',
];

/** A breaker's settings, fixed for its life: one object, so an idle breaker stays small. */
export interface BreakerSettings extends BreakerTiming {
  readonly classify: ClassifyFunction;
  readonly countsAsFailure: (fault: Fault) => boolean;
  /** -1: calls are not timed. */
  readonly slowCallMs: number;
  readonly name: string | undefined;
}

/** Validates circuit breaker options (ConfigError on the first bad one) and applies defaults. */
export function breakerSettings(options: CircuitBreakerOptions): {
  settings: BreakerSettings;
  trigger: TriggerStrategy;
} {
  const o = check.plainObject('options', options);
  check.knownKeys('circuitBreaker', o, OPTION_KEYS);
  const trigger = createTrigger(o.trigger ?? DEFAULT_TRIGGER);
  const halfOpenAfter =
    o.halfOpenAfter === undefined
      ? 30_000
      : isBackoff(o.halfOpenAfter)
        ? o.halfOpenAfter
        : check.nonNegativeNumber('halfOpenAfter', o.halfOpenAfter);
  const clock = (o.clock ?? systemClock) as Clock;
  if (typeof clock.now !== 'function') throw check.configError('clock', o.clock, 'a Clock');
  const settings: BreakerSettings = {
    clock,
    halfOpenAfter,
    maxProbes: check.positiveInteger('maxProbes', o.maxProbes ?? 1),
    probesToClose: check.positiveInteger('probesToClose', o.probesToClose ?? 1),
    random: o.random === undefined ? Math.random : check.fn<RandomSource>('random', o.random),
    classify:
      o.classify === undefined
        ? defaultClassify
        : check.fn<ClassifyFunction>('classify', o.classify),
    countsAsFailure: countsAsFailureFrom(o.countsAsFailure, o.ignoredCategories),
    // -1: no slow-call tracking (a small integer: Infinity would be a boxed number per breaker).
    slowCallMs:
      o.slowCallMs === undefined ? -1 : check.nonNegativeNumber('slowCallMs', o.slowCallMs),
    name: o.name === undefined ? undefined : nonEmptyString('name', o.name),
  };
  return { settings, trigger };
}

function countsAsFailureFrom(
  countsAsFailure: unknown,
  ignoredCategories: unknown,
): (fault: Fault) => boolean {
  if (countsAsFailure !== undefined) {
    if (ignoredCategories !== undefined)
      throw check.configError(
        'ignoredCategories',
        ignoredCategories,
        'not both ignoredCategories and countsAsFailure',
      );
    return check.fn('countsAsFailure', countsAsFailure);
  }
  if (ignoredCategories === undefined) return countsByDefault;
  const ignored = ignoredSet(ignoredCategories);
  return (fault) => !ignored.has(fault.category);
}

function ignoredSet(value: unknown): ReadonlySet<FaultCategory> {
  if (!Array.isArray(value))
    throw check.configError('ignoredCategories', value, 'an array of fault categories');
  return new Set(value.map((c, i) => check.category(`ignoredCategories[${i}]`, c)));
}

function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw check.configError(option, value, 'a non-empty string');
  return value;
}
