import { BrokenCircuitError } from '../faults/errors.js';
import type { FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import { validateSnapshot, type CircuitBreakerSnapshot } from './breaker-snapshot.js';
import { BreakerStateMachine, type CircuitState, REJECTED } from './breaker-state.js';
import { enterCall, isRefused } from './call-entry.js';
import {
  type CircuitBreakerEvents,
  type CircuitStateChange,
  withEventOperation,
} from './circuit-breaker-events.js';
import {
  type BreakerSettings,
  breakerSettings,
  type CircuitBreakerOptions,
} from './circuit-breaker-options.js';
import {
  type ExecuteContext,
  type ExecuteOptions,
  type Operation,
  type OperationContext,
  type Policy,
  type PolicyStats,
  withOperation,
} from './policy.js';
import { settleCall } from './settle-call.js';

export type {
  CircuitBreakerEvents,
  CircuitRejection,
  CircuitStateChange,
} from './circuit-breaker-events.js';
export {
  type CircuitBreakerOptions,
  DEFAULT_IGNORED_CATEGORIES,
} from './circuit-breaker-options.js';

export interface CircuitBreakerStats extends PolicyStats {
  readonly state: CircuitState;
  /** Times the circuit opened. */
  readonly opened: number;
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
  private outcome: EpochOutcome | undefined;

  constructor(options: CircuitBreakerOptions = {}) {
    const { settings, trigger } = breakerSettings(options);
    super(settings, trigger);
  }

  private get settings(): BreakerSettings {
    return this.timing as BreakerSettings;
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
    // Per-call bookkeeping (a start time for slow calls, the operation for stateChange events)
    // takes the tracked path; otherwise the outcome goes to handlers shared by the whole epoch.
    // Two paths, not one: inside a pipeline the shared handlers save far more than clarity is
    // worth trading for (A/B in docs/benchmarks.md#decisions-readable-over-nanoseconds).
    if (this.settings.slowCallMs >= 0 || this.eventHub?.has('stateChange'))
      return this.executeTracked(fn, context);
    // The clock is read only when something needs the time: a closed breaker only at the end of
    // a call, and only for a time window.
    const now = this.currentState !== 'closed' ? this.timing.clock.now() : 0;
    const epoch = this.admit(now, context.operation);
    if (epoch === REJECTED) return Promise.reject(this.rejection(now, context.operation));
    let outcome = this.outcome;
    if (outcome === undefined || outcome.epoch !== epoch) {
      outcome = new EpochOutcome(this, epoch);
      this.outcome = outcome;
    }
    return settleCall(fn, context, outcome.success as (value: T) => T, outcome.failure);
  }

  private async executeTracked<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    const settings = this.settings;
    const timed = settings.slowCallMs >= 0;
    const needsNow = timed || this.currentState !== 'closed' || this.trigger.needsTime;
    const start = needsNow ? this.timing.clock.now() : 0;
    const epoch = this.admit(start, context.operation);
    if (epoch === REJECTED) throw this.rejection(start, context.operation);
    let result: T;
    try {
      result = await fn(context);
    } catch (error) {
      const end = needsNow ? this.timing.clock.now() : 0;
      this.recordFailure(
        epoch,
        error,
        timed && end - start >= settings.slowCallMs,
        end,
        context.operation,
      );
      throw error;
    }
    const end = needsNow ? this.timing.clock.now() : 0;
    this.recordSuccess(epoch, timed && end - start >= settings.slowCallMs, end, context.operation);
    return result;
  }

  /** @internal The current time, for outcome handlers of breakers whose trigger needs it. */
  nowIfNeeded(): number {
    return this.trigger.needsTime ? this.timing.clock.now() : 0;
  }

  /** @internal Counts a success and feeds the state machine. */
  recordSuccess(
    epoch: number,
    slow: boolean,
    now: number,
    operation: OperationContext | undefined,
  ): void {
    this.successes++;
    this.succeeded(epoch, slow, now, operation);
  }

  /** @internal Classifies a failure, counts it and feeds the state machine. */
  recordFailure(
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

/**
 * The outcome handlers of the calls admitted in one epoch (one stretch between state changes):
 * bound once, so the untracked path allocates no closure per call.
 */
class EpochOutcome {
  constructor(
    readonly breaker: CircuitBreaker,
    readonly epoch: number,
  ) {}

  readonly success = (value: unknown): unknown => {
    this.breaker.recordSuccess(this.epoch, false, this.breaker.nowIfNeeded(), undefined);
    return value;
  };

  readonly failure = (error: unknown): never => {
    this.breaker.recordFailure(this.epoch, error, false, this.breaker.nowIfNeeded(), undefined);
    throw error;
  };
}

/** Creates a circuit breaker; see `CircuitBreakerOptions`. */
export function circuitBreaker(options?: CircuitBreakerOptions): CircuitBreaker {
  return new CircuitBreaker(options);
}
