import type { ClassifyFunction } from '../faults/classify.js';
import { RetriesExhaustedError } from '../faults/errors.js';
import type { Fault } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import type { Backoff } from '../recovery/backoff.js';
import { formatMs, type RecoveryPlan, usableDelayFactor } from '../recovery/plan.js';
import type { RandomSource } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import { scoped } from '../validate/scoped.js';
import { enterCall, isRefused } from './call-entry.js';
import {
  type ExecuteContext,
  type ExecuteOptions,
  NEVER_ABORTED,
  type Operation,
  type Policy,
  type PolicyStats,
  withOperation,
} from './policy.js';
import { budgetOf, markBudget, type RetryBudget } from './retry-budget.js';
import type { RetryEvents, RetryStopReason } from './retry-events.js';
import { RETRY_OPTION_KEYS, type RetryOptions, retrySettings } from './retry-options.js';
import { settleCall } from './settle-call.js';
import { StatsCounter } from './stats.js';

/** Every option error names the option from `retry`. */
const check = scoped('retry');

export type { RetryEvents, RetryStopReason } from './retry-events.js';
export type { DelayFactorSource, RetryOptions } from './retry-options.js';

/**
 * Runs a function again when it fails, as the recovery plan decides.
 *
 * What the caller sees when it stops:
 * - the plan says `skip`, `abort` or `fallback` (a 404, a 401, a validation error): the
 *   original error, untouched; retrying was never the answer.
 * - the retry budget is spent: the original error, at once.
 * - the caller's signal aborted (during an attempt or a wait): the signal's reason, never the
 *   attempt's own error; the `giveUp` event (reason `cancelled`) still carries that error.
 * - a limit was reached (attempts, elapsed time, a Retry-After over `maxRetryAfterMs`, the
 *   plan's own limits): `RetriesExhaustedError` with attempts, total delay and the last fault;
 *   its `cause` is the last error. It is not retryable, so an outer retry layer does not
 *   multiply the attempts.
 */
export class RetryPolicy implements Policy<RetryEvents> {
  readonly kind = 'retry';
  readonly events: Events<RetryEvents>;
  readonly maxAttempts: number;
  readonly maxElapsedMs: number;
  readonly maxRetryAfterMs: number;
  private readonly backoff: Backoff | undefined;
  private readonly plan: RecoveryPlan;
  private readonly classify: ClassifyFunction;
  private readonly budget: RetryBudget | undefined;
  private readonly delayFactor: (() => number) | undefined;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  /** Whether elapsed time matters (a finite limit here or in the plan): only then is the start time read. */
  private readonly timed: boolean;
  private readonly counter: StatsCounter;
  private readonly options: RetryOptions;

  /** `shared` is for `with()`: a derived policy keeps its parent's events and stats. */
  constructor(
    options: RetryOptions = {},
    shared?: { readonly events: Events<RetryEvents>; readonly counter: StatsCounter },
  ) {
    const settings = retrySettings(options);
    this.options = options;
    this.events = shared?.events ?? new Events<RetryEvents>();
    this.counter = shared?.counter ?? new StatsCounter();
    this.maxAttempts = settings.maxAttempts;
    this.maxElapsedMs = settings.maxElapsedMs;
    this.maxRetryAfterMs = settings.maxRetryAfterMs;
    this.backoff = settings.backoff;
    this.plan = settings.plan;
    this.classify = settings.classify;
    this.budget = settings.budget;
    this.delayFactor = settings.delayFactor;
    this.clock = settings.clock;
    this.random = settings.random;
    this.timed = settings.timed;
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const outer = enterCall(fn, options);
    if (isRefused(outer)) return outer.promise();
    this.counter.executions++;
    const budget = this.budget;
    let first = outer;
    if (budget !== undefined && budgetOf(outer) !== budget) {
      // The outermost layer using this budget counts the request; nested layers do not.
      budget.recordRequest();
      first = markBudget(attemptContext(outer, 1, undefined), budget);
    } else if (outer.attempt !== 1) {
      first = markBudget(attemptContext(outer, 1, undefined), budget);
    }
    // The clock is read up front only when elapsed time matters; reading it can cost more than the rest.
    const startedAt = this.timed ? this.clock.now() : Number.NaN;
    // The first attempt without an async frame: a success costs one `then`. Everything after a
    // first failure is in `recover`. (A handler shared by every call, used when nobody listened
    // for `success`, saved too little to be worth a second form: A/B in
    // docs/benchmarks.md#decisions-readable-over-nanoseconds.)
    return settleCall(
      fn,
      first,
      (value) => this.succeeded(value, 1, 0, outer),
      (error) =>
        this.recover(fn, outer, error, Number.isNaN(startedAt) ? this.clock.now() : startedAt),
    );
  }

  private succeeded<T>(value: T, attempts: number, totalDelayMs: number, outer: ExecuteContext): T {
    this.counter.successes++;
    if (this.events.has('success'))
      this.events.emit('success', { attempts, totalDelayMs, operation: outer.operation });
    return value;
  }

  stats(): PolicyStats {
    return this.counter.snapshot();
  }

  /**
   * The same policy with some options changed, for one call or one kind of call:
   * `policy.with({ maxAttempts: 2 }).execute(fn)`. The derived policy shares this one's events,
   * stats and budget (the budget is an option, kept unless overridden), so listeners, metrics and
   * the shared retry budget see its calls. Deriving validates the options once; keep a derived
   * policy rather than deriving it on every call of a hot path.
   */
  with(overrides: RetryOptions): RetryPolicy {
    check.knownKeys('retry.with', check.plainObject('retry.with', overrides), RETRY_OPTION_KEYS);
    return new RetryPolicy(
      { ...this.options, ...overrides },
      { events: this.events, counter: this.counter },
    );
  }

  describe(): string {
    const parts = [
      this.maxAttempts === Number.POSITIVE_INFINITY
        ? 'attempts per plan'
        : `${this.maxAttempts} attempts`,
      this.backoff === undefined ? 'plan backoff' : `${this.backoff.kind} backoff`,
    ];
    if (this.maxElapsedMs !== Number.POSITIVE_INFINITY)
      parts.push(`${formatMs(this.maxElapsedMs)} max`);
    if (this.budget !== undefined) parts.push(this.budget.describe());
    return `retry(${parts.join(', ')})`;
  }

  private async recover<T>(
    fn: Operation<T>,
    outer: ExecuteContext,
    firstError: unknown,
    startedAt: number,
  ): Promise<T> {
    const signal = outer.signal;
    let error = firstError;
    let attempt = 1;
    let totalDelayMs = 0;
    let previousDelayMs = 0;
    for (;;) {
      const fault = this.classify(error);
      const elapsedMs = this.clock.now() - startedAt;
      if (signal.aborted) {
        // The caller gets the signal's reason, whatever the attempt failed with (as during a wait).
        this.stop(outer, 'cancelled', error, fault, attempt, totalDelayMs, 'the caller aborted');
        throw signal.reason;
      }
      const factor = this.delayFactor === undefined ? 1 : usableDelayFactor(this.delayFactor());
      const decision = this.plan.decide(fault, {
        attempt,
        elapsedMs,
        previousDelayMs,
        delayFactor: factor,
      });
      const action = decision.action;
      if (action === 'skip' || action === 'abort' || action === 'fallback') {
        throw this.stop(outer, action, error, fault, attempt, totalDelayMs, decision.reason);
      }
      if (action === 'give_up')
        throw this.exhausted(outer, fault, attempt, totalDelayMs, decision.reason);
      let delayMs = decision.delayMs;
      if (this.backoff !== undefined && action === 'retry') {
        delayMs = Math.ceil(
          Math.max(
            fault.retryAfterMs ?? 0,
            this.backoff.delay(attempt, previousDelayMs, this.random) * factor,
          ),
        );
      }
      if (fault.retryAfterMs !== undefined && fault.retryAfterMs > this.maxRetryAfterMs) {
        const reason = `the server asked to wait ${formatMs(fault.retryAfterMs)}, more than maxRetryAfterMs (${formatMs(this.maxRetryAfterMs)})`;
        throw this.exhausted(outer, fault, attempt, totalDelayMs, reason);
      }
      if (attempt >= this.maxAttempts) {
        throw this.exhausted(
          outer,
          fault,
          attempt,
          totalDelayMs,
          `maxAttempts (${this.maxAttempts}) reached`,
        );
      }
      if (elapsedMs + delayMs > this.maxElapsedMs) {
        throw this.exhausted(
          outer,
          fault,
          attempt,
          totalDelayMs,
          `out of time (maxElapsedMs ${formatMs(this.maxElapsedMs)})`,
        );
      }
      if (this.budget !== undefined && !this.budget.tryRetry()) {
        this.counter.rejections++;
        throw this.stop(
          outer,
          'budget_spent',
          error,
          fault,
          attempt,
          totalDelayMs,
          'the retry budget is spent',
        );
      }
      this.counter.retries++;
      if (this.events.has('retry')) {
        this.events.emit('retry', {
          attempt,
          delayMs,
          fault,
          reason: decision.reason,
          operation: outer.operation,
        });
      }
      if (delayMs > 0) {
        try {
          await this.wait(delayMs, signal);
        } catch (abortReason) {
          this.stop(
            outer,
            'cancelled',
            error,
            fault,
            attempt,
            totalDelayMs,
            'the caller aborted during the wait',
          );
          throw abortReason;
        }
      }
      attempt++;
      totalDelayMs += delayMs;
      previousDelayMs = delayMs;
      try {
        const value = await fn(markBudget(attemptContext(outer, attempt, fault), this.budget));
        return this.succeeded(value, attempt, totalDelayMs, outer);
      } catch (next) {
        error = next;
      }
    }
  }

  /**
   * Waits `ms` on the monotonic clock. Real timers may fire a little early; the remainder is
   * waited out, so a retry never comes earlier than the server asked.
   */
  private async wait(ms: number, signal: AbortSignal): Promise<void> {
    const waitSignal = signal === NEVER_ABORTED ? undefined : signal;
    const until = this.clock.now() + ms;
    await this.clock.sleep(ms, waitSignal);
    for (let left = until - this.clock.now(); left > 0; left = until - this.clock.now()) {
      await this.clock.sleep(Math.ceil(left), waitSignal);
    }
  }

  /** Ends with the original error (skip, abort, fallback, budget spent, cancelled). */
  private stop(
    outer: ExecuteContext,
    reason: RetryStopReason,
    error: unknown,
    fault: Fault,
    attempts: number,
    totalDelayMs: number,
    message: string,
  ): unknown {
    this.counter.failure(fault.category);
    if (this.events.has('giveUp')) {
      this.events.emit('giveUp', {
        reason,
        attempts,
        totalDelayMs,
        fault,
        error,
        message,
        operation: outer.operation,
      });
    }
    return error;
  }

  private exhausted(
    outer: ExecuteContext,
    fault: Fault,
    attempts: number,
    totalDelayMs: number,
    message: string,
  ): RetriesExhaustedError {
    const error = withOperation(
      new RetriesExhaustedError(attempts, totalDelayMs, fault, message),
      outer.operation,
    );
    this.stop(outer, 'exhausted', error, fault, attempts, totalDelayMs, message);
    return error;
  }
}

function attemptContext(
  outer: ExecuteContext,
  attempt: number,
  previousFault: Fault | undefined,
): ExecuteContext {
  return { signal: outer.signal, attempt, previousFault, operation: outer.operation };
}

/** Retries a function as the recovery plan decides; see `RetryPolicy` for what it throws. */
export function retry(options?: RetryOptions): RetryPolicy {
  return new RetryPolicy(options);
}
