import * as check from '../validate/validate.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import { BrokenCircuitError, ConfigError } from '../faults/errors.js';
import type { Fault, FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import { type Backoff, isBackoff } from '../recovery/backoff.js';
import type { RandomSource } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { validateSnapshot, type CircuitBreakerSnapshot } from './breaker-snapshot.js';
import { settleCall } from './settle-call.js';
import {
  type BreakerTiming,
  BreakerStateMachine,
  type CircuitState,
  REJECTED,
} from './breaker-state.js';
import { type BreakerTrigger, createTrigger, DEFAULT_TRIGGER } from './breaker-trigger.js';
import {
  withOperation,
  type ExecuteOptions,
  type Operation,
  type OperationContext,
  type Policy,
  type PolicyStats,
} from './policy.js';
import { enterCall, isRefused } from './call-entry.js';

export interface CircuitBreakerOptions {
  /** What opens the circuit. Default: 5 consecutive counted failures. */
  readonly trigger?: BreakerTrigger;
  /**
   * How long the circuit stays open before a probe: fixed ms, or a backoff whose attempt is the
   * number of opens in a row (so each failed probe waits longer). Default 30 000 ms.
   */
  readonly halfOpenAfter?: number | Backoff;
  /** Probes let through at the same time in half-open. Default 1. */
  readonly maxProbes?: number;
  /** Successful probes needed to close again. Default 1. */
  readonly probesToClose?: number;
  /** A call that takes at least this long is slow (counts for `slowCallRate`, or as a failure for `consecutive`). */
  readonly slowCallMs?: number;
  /** Fault categories that do not count against the circuit. Default: validation, permanent, cancelled. */
  readonly ignoredCategories?: readonly FaultCategory[];
  /** Decides per fault whether it counts (instead of `ignoredCategories`). */
  readonly countsAsFailure?: (fault: Fault) => boolean;
  /** Default: the built-in `classify`. */
  readonly classify?: ClassifyFunction;
  readonly clock?: Clock;
  /** Jitter source for a `halfOpenAfter` backoff. Default Math.random. */
  readonly random?: RandomSource;
  /** A name for descriptions and events, e.g. the upstream it protects. */
  readonly name?: string;
}

export interface CircuitStateChange {
  readonly breaker: string | undefined;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Why, in words: `5 consecutive failures`, `probe failed`, `open for 30000 ms`, `isolated`, ... */
  readonly reason: string;
  /** For `to: 'open'`: how long until a probe is let through. */
  readonly openForMs?: number;
  /** The operation of the call that caused the change, if a call did. */
  readonly operation?: OperationContext;
}

export interface CircuitRejection {
  readonly breaker: string | undefined;
  readonly state: CircuitState;
  readonly retryAfterMs: number | undefined;
  readonly operation?: OperationContext;
}

export interface CircuitBreakerEvents {
  stateChange: CircuitStateChange;
  rejected: CircuitRejection;
}

export interface CircuitBreakerStats extends PolicyStats {
  readonly state: CircuitState;
  /** Times the circuit opened. */
  readonly opened: number;
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

/** Settings that do not change per call: one object, so an idle breaker stays small. */
interface Settings extends BreakerTiming {
  readonly classify: ClassifyFunction;
  readonly countsAsFailure: (fault: Fault) => boolean;
  readonly slowCallMs: number;
  readonly name: string | undefined;
}

/**
 * Stops calling a dependency that keeps failing, and lets a probe through now and then to see
 * whether it is back. States: closed (calls pass), open (calls refused with
 * `BrokenCircuitError`, whose `retryAfterMs` is the time left), halfOpen (up to `maxProbes`
 * probes), isolated (held open by hand until `reset()`).
 */
export class CircuitBreaker extends BreakerStateMachine implements Policy<CircuitBreakerEvents> {
  readonly kind = 'circuitBreaker';
  private eventHub: Events<CircuitBreakerEvents> | undefined;
  private executions = 0;
  private successes = 0;
  private failures = 0;
  private rejections = 0;
  private opened = 0;
  private byCategory: Partial<Record<FaultCategory, number>> | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    const o = check.plainObject('options', options);
    check.knownKeys('circuitBreaker', o, OPTION_KEYS);
    const trigger = createTrigger(o.trigger ?? DEFAULT_TRIGGER);
    const halfOpenAfter =
      o.halfOpenAfter === undefined
        ? 30_000
        : isBackoff(o.halfOpenAfter)
          ? o.halfOpenAfter
          : check.nonNegativeNumber('halfOpenAfter', o.halfOpenAfter);
    const maxProbes = check.positiveInteger('maxProbes', o.maxProbes ?? 1);
    const probesToClose = check.positiveInteger('probesToClose', o.probesToClose ?? 1);
    const clock = (o.clock ?? systemClock) as Clock;
    if (typeof clock.now !== 'function') throw new ConfigError('clock', o.clock, 'a Clock');
    const random =
      o.random === undefined ? Math.random : check.fn<RandomSource>('random', o.random);

    let countsAsFailure: (fault: Fault) => boolean;
    if (o.countsAsFailure !== undefined) {
      if (o.ignoredCategories !== undefined)
        throw new ConfigError(
          'ignoredCategories',
          o.ignoredCategories,
          'not both ignoredCategories and countsAsFailure',
        );
      countsAsFailure = check.fn('countsAsFailure', o.countsAsFailure);
    } else if (o.ignoredCategories === undefined) {
      countsAsFailure = countsByDefault;
    } else {
      const ignored = ignoredSet(o.ignoredCategories);
      countsAsFailure = (fault) => !ignored.has(fault.category);
    }
    const name = o.name === undefined ? undefined : nonEmptyString('name', o.name);
    const settings: Settings = {
      clock,
      halfOpenAfter,
      maxProbes,
      probesToClose,
      random,
      classify:
        o.classify === undefined
          ? defaultClassify
          : check.fn<ClassifyFunction>('classify', o.classify),
      countsAsFailure,
      // -1: no slow-call tracking (a small integer, not Infinity, which would cost a boxed number per breaker).
      slowCallMs:
        o.slowCallMs === undefined ? -1 : check.nonNegativeNumber('slowCallMs', o.slowCallMs),
      name,
    };
    super(settings, trigger);
  }

  private get settings(): Settings {
    return this.timing as Settings;
  }

  /** Typed events; created on first use so an unobserved breaker carries none. */
  get events(): Events<CircuitBreakerEvents> {
    if (this.eventHub === undefined) this.eventHub = new Events();
    return this.eventHub;
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.executions++;
    const operation = context.operation;
    const slowCallMs = this.settings.slowCallMs;
    const timed = slowCallMs >= 0;
    // The clock is read only when something needs the time: at the start for slow calls and to
    // let a probe through, at the end for slow calls and time windows.
    const start = timed || this.currentState !== 'closed' ? this.timing.clock.now() : 0;
    const epoch = this.admit(start, operation);
    if (epoch === REJECTED) return Promise.reject(this.rejection(start, operation));
    const endsTimed = timed || this.trigger.needsTime;
    // One path for every call, its outcome handlers made per call: the shared per-epoch handlers
    // this replaced saved less than the ~15 ns bar (A/B in docs/benchmarks.md#decisions).
    return settleCall(
      fn,
      context,
      (value) => {
        const end = endsTimed ? this.timing.clock.now() : 0;
        this.recordSuccess(epoch, timed && end - start >= slowCallMs, end, operation);
        return value;
      },
      (error) => {
        const end = endsTimed ? this.timing.clock.now() : 0;
        this.recordFailure(epoch, error, timed && end - start >= slowCallMs, end, operation);
        throw error;
      },
    );
  }

  /** Counts a success and feeds the state machine. */
  private recordSuccess(
    epoch: number,
    slow: boolean,
    now: number,
    operation: OperationContext | undefined,
  ): void {
    this.successes++;
    this.succeeded(epoch, slow, now, operation);
  }

  /** Classifies a failure, counts it and feeds the state machine. */
  private recordFailure(
    epoch: number,
    error: unknown,
    slow: boolean,
    now: number,
    operation: OperationContext | undefined,
  ): void {
    const settings = this.settings;
    const fault = settings.classify(error);
    this.countFailure(fault.category);
    this.failed(epoch, settings.countsAsFailure(fault), slow, now, operation);
  }

  private rejection(now: number, operation: OperationContext | undefined): BrokenCircuitError {
    this.rejections++;
    const isolated = this.currentState === 'isolated';
    // Open: exactly the time left. Half-open with every probe slot taken: no figure to give.
    const retryAfterMs =
      this.currentState === 'open' ? Math.ceil(this.remainingOpenMs(now)) : undefined;
    const hub = this.eventHub;
    if (hub?.has('rejected'))
      hub.emit(
        'rejected',
        withEventOperation(
          { breaker: this.settings.name, state: this.currentState, retryAfterMs },
          operation,
        ),
      );
    const message = isolated
      ? 'The circuit breaker is isolated: the call was not made'
      : retryAfterMs === undefined
        ? 'The circuit breaker is half-open and its probes are busy: the call was not made'
        : `The circuit breaker is open for ${retryAfterMs} ms more: the call was not made`;
    return withOperation(
      new BrokenCircuitError(
        message,
        retryAfterMs === undefined ? { isolated } : { isolated, retryAfterMs },
      ),
      operation,
    );
  }

  private countFailure(category: FaultCategory): void {
    this.failures++;
    if (this.byCategory === undefined) this.byCategory = {};
    const byCategory = this.byCategory;
    byCategory[category] = (byCategory[category] ?? 0) + 1;
  }

  protected transitioned(
    from: CircuitState,
    to: CircuitState,
    reason: string,
    operation: unknown,
  ): void {
    if (to === 'open') this.opened++;
    const hub = this.eventHub;
    if (hub === undefined || !hub.has('stateChange')) return;
    const change: CircuitStateChange = { breaker: this.settings.name, from, to, reason };
    if (to === 'open') (change as { openForMs?: number }).openForMs = this.openMs;
    hub.emit('stateChange', withEventOperation(change, operation as OperationContext | undefined));
  }

  stats(): CircuitBreakerStats {
    return {
      executions: this.executions,
      successes: this.successes,
      failures: this.failures,
      failuresByCategory: { ...this.byCategory },
      rejections: this.rejections,
      retries: 0,
      state: this.state,
      opened: this.opened,
    };
  }

  describe(): string {
    const after = this.timing.halfOpenAfter;
    const timing = typeof after === 'number' ? `${after} ms` : `a ${after.kind} backoff`;
    const name = this.settings.name === undefined ? '' : ` "${this.settings.name}"`;
    return `circuitBreaker${name}: opens on ${this.trigger.describe()}, probes after ${timing}`;
  }

  /** The state as JSON (see `CircuitBreakerSnapshot`); `JSON.stringify(breaker)` uses it. */
  toJSON(): CircuitBreakerSnapshot {
    const clock = this.timing.clock;
    const base = {
      version: 1 as const,
      opens: this.opens,
      consecutiveFailures: this.trigger.consecutiveFailures,
    };
    if (this.currentState !== 'open') return { ...base, state: this.currentState };
    return { ...base, state: 'open', openUntil: clock.wallTime() + this.remainingOpenMs() };
  }

  /** Takes on a saved state (from `toJSON`, maybe of another process). Throws ConfigError on a bad snapshot. */
  restore(snapshot: CircuitBreakerSnapshot): void {
    const s = validateSnapshot(snapshot);
    if (s.state === 'open') {
      this.forceOpen(Math.max(0, (s.openUntil ?? 0) - this.timing.clock.wallTime()), 'restored');
    } else if (s.state === 'isolated') {
      this.isolate('restored');
    } else {
      this.moveTo(s.state, 'restored', undefined);
    }
    this.opens = s.opens;
    this.trigger.resume(s.consecutiveFailures);
  }
}

/** Creates a circuit breaker; see `CircuitBreakerOptions`. */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}

function ignoredSet(value: unknown): ReadonlySet<FaultCategory> {
  if (!Array.isArray(value))
    throw new ConfigError('ignoredCategories', value, 'an array of fault categories');
  return new Set(value.map((c, i) => check.category(`ignoredCategories[${i}]`, c)));
}

function nonEmptyString(option: string, value: unknown): string {
  if (typeof value !== 'string' || value === '')
    throw new ConfigError(option, value, 'a non-empty string');
  return value;
}

function withEventOperation<E extends object>(
  event: E,
  operation: OperationContext | undefined,
): E {
  if (operation !== undefined) (event as { operation?: OperationContext }).operation = operation;
  return event;
}
