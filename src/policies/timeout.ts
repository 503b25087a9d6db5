import * as check from '../config/validate.js';
import { ConfigError, TimeoutError } from '../faults/errors.js';
import { classify } from '../faults/classify.js';
import { Events } from '../observe/events.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
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
import { StatsCounter } from './stats.js';
import { AbortableContext } from './timeout-context.js';
import { type DeadlineEntry, DeadlineQueue } from './timeout-queue.js';
import { enterCall, isRefused } from './call-entry.js';

/**
 * - `cooperative`: at the deadline the signal handed to the function aborts; the caller
 *   waits for the function to settle (a function that honours its signal settles at once).
 * - `aggressive`: the caller is also released at the deadline with a TimeoutError, even if
 *   the function ignores its signal; its late result is dropped.
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

export interface TimeoutOptions {
  /** The deadline, from the start of the call. */
  readonly timeoutMs: number;
  /** Default 'cooperative'. */
  readonly strategy?: TimeoutStrategy;
  /**
   * How precise the deadline is: it fires between `timeoutMs` and `timeoutMs + 2 × resolutionMs`,
   * in exchange for not reading the clock on every call. Default 1 % of `timeoutMs`, at most
   * 100 ms, and 0 (exact) for timeouts under a second.
   */
  readonly resolutionMs?: number;
  readonly clock?: Clock;
}

export interface TimeoutEvents {
  readonly timeout: {
    readonly timeoutMs: number;
    readonly strategy: TimeoutStrategy;
    /** Whether the function read its signal (and so could stop its work). */
    readonly signalRead: boolean;
    readonly operation: OperationContext | undefined;
  };
}

const KEYS = ['timeoutMs', 'strategy', 'resolutionMs', 'clock'];
const STRATEGIES: readonly TimeoutStrategy[] = ['cooperative', 'aggressive'];

/**
 * One call under a timeout: the context handed to `fn`, and the call's entry in the policy's
 * deadline queue. A flat class with its fields assigned in the constructor: it is built on
 * every call.
 */
class TimeoutRun implements DeadlineEntry {
  readonly context: AbortableContext;
  nextEntry: DeadlineEntry | undefined;
  settled: boolean;
  timedOut: boolean;
  /** Release the caller at the deadline (aggressive strategy only). */
  rejectCaller: ((error: unknown) => void) | undefined;
  resolveCaller: ((value: unknown) => void) | undefined;

  constructor(
    readonly policy: TimeoutPolicy,
    parent: ExecuteContext,
    readonly deadline: number,
  ) {
    this.context = new AbortableContext(parent);
    this.nextEntry = undefined;
    this.settled = false;
    this.timedOut = false;
    this.rejectCaller = undefined;
    this.resolveCaller = undefined;
  }

  expire(): void {
    this.timedOut = true;
    this.policy.expired(this);
  }
}

export class TimeoutPolicy implements Policy<TimeoutEvents> {
  readonly kind = 'timeout';
  readonly events = new Events<TimeoutEvents>();
  readonly timeoutMs: number;
  readonly strategy: TimeoutStrategy;
  private readonly clock: Clock;
  private readonly queue: DeadlineQueue;
  private readonly counter = new StatsCounter();
  private timeouts = 0;

  constructor(options: TimeoutOptions) {
    const opts = check.plainObject('timeout', options);
    check.knownKeys('timeout', opts, KEYS);
    this.timeoutMs = check.nonNegativeNumber('timeoutMs', options.timeoutMs);
    this.strategy = options.strategy === undefined ? 'cooperative' : check.oneOf('strategy', options.strategy, STRATEGIES);
    if (options.clock !== undefined && typeof options.clock?.schedule !== 'function') {
      throw new ConfigError('clock', options.clock, 'a Clock');
    }
    this.clock = options.clock ?? systemClock;
    const resolutionMs = check.nonNegativeNumber('resolutionMs', options.resolutionMs ?? DeadlineQueue.resolutionFor(this.timeoutMs));
    this.queue = new DeadlineQueue(this.clock, resolutionMs);
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    const deadline = this.queue.deadlineAfter(this.timeoutMs);
    this.counter.executions++;
    const run = new TimeoutRun(this, context, deadline);
    this.queue.add(run);
    return this.strategy === 'cooperative' ? this.cooperative(run, fn) : this.aggressive(run, fn);
  }

  stats(): PolicyStats & { readonly timeouts: number } {
    return { ...this.counter.snapshot(), timeouts: this.timeouts };
  }

  describe(): string {
    return `timeout(${this.timeoutMs} ms, ${this.strategy})`;
  }

  /** Called by the deadline queue when a run's deadline passes before it settled. */
  expired(run: TimeoutRun): void {
    this.timeouts++;
    const error = withOperation(new TimeoutError(this.timeoutMs), run.context.operation);
    if (this.events.has('timeout')) {
      this.events.emit('timeout', { timeoutMs: this.timeoutMs, strategy: this.strategy, signalRead: run.context.signalRead, operation: run.context.operation });
    }
    run.context.abort(error);
    const reject = run.rejectCaller;
    if (reject !== undefined) {
      // Aggressive: the caller is released now (and counted now; otherwise when `fn` settles).
      run.rejectCaller = undefined;
      run.resolveCaller = undefined;
      this.counter.failure('timeout');
      reject(error);
    }
  }

  /**
   * No async frame (it would cost more than the rest of the policy): the outcome goes to two
   * small handlers bound to this run.
   */
  private cooperative<T>(run: TimeoutRun, fn: Operation<T>): Promise<T> {
    return settleCall(
      fn,
      run.context,
      (value: T) => this.succeeded(run, value),
      (error: unknown) => {
        throw this.settledWithError(run, error);
      },
    );
  }

  /** A cooperative call that completes after its deadline still returns its result: the work is done. */
  private succeeded<T>(run: TimeoutRun, value: T): T {
    this.finish(run);
    this.counter.successes++;
    return value;
  }

  private settledWithError(run: TimeoutRun, error: unknown): unknown {
    this.finish(run);
    return this.failed(run, error);
  }

  private aggressive<T>(run: TimeoutRun, fn: Operation<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      run.resolveCaller = resolve as (value: unknown) => void;
      run.rejectCaller = reject;
      let result: PromiseLike<T> | T;
      try {
        result = fn(run.context);
      } catch (error) {
        this.onAggressiveError(run, error);
        return;
      }
      Promise.resolve(result).then(
        (value) => this.onAggressiveValue(run, value),
        (error) => this.onAggressiveError(run, error),
      );
    });
  }

  private onAggressiveValue<T>(run: TimeoutRun, value: T): void {
    this.finish(run);
    const resolve = run.resolveCaller;
    if (resolve === undefined) return; // released at the deadline already; the late value is dropped
    run.resolveCaller = undefined;
    run.rejectCaller = undefined;
    this.counter.successes++;
    resolve(value);
  }

  private onAggressiveError(run: TimeoutRun, error: unknown): void {
    this.finish(run);
    const reject = run.rejectCaller;
    if (reject === undefined) return;
    run.resolveCaller = undefined;
    run.rejectCaller = undefined;
    reject(this.failed(run, error));
  }

  private finish(run: TimeoutRun): void {
    this.queue.settle(run);
    run.context.release();
  }

  /** The error the caller sees: a TimeoutError if the deadline passed, else the function's own. */
  private failed(run: TimeoutRun, error: unknown): unknown {
    if (run.timedOut) {
      this.counter.failure('timeout');
      if (error instanceof TimeoutError) return error;
      return withOperation(new TimeoutError(this.timeoutMs, { cause: error }), run.context.operation);
    }
    this.counter.failure(classify(error).category);
    return error;
  }
}

/** Bounds how long a call may take: `timeout(5_000)` or `timeout({ timeoutMs, strategy })`. */
export function timeout(options: TimeoutOptions | number): TimeoutPolicy {
  return new TimeoutPolicy(typeof options === 'number' ? { timeoutMs: options } : options);
}
