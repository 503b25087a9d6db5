import { scoped } from '../validate/scoped.js';
import { TimeoutError } from '../faults/errors.js';
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

/** Every option error names the option from `timeout`. */
const check = scoped('timeout');

/**
 * - `cooperative`: at the deadline the signal handed to the function aborts; the caller
 *   waits for the function to settle (a function that honours its signal settles at once).
 * - `aggressive`: the caller is also released at the deadline with a TimeoutError, even if
 *   the function ignores its signal; its late result is dropped.
 */
export type TimeoutStrategy = 'cooperative' | 'aggressive';

/** Options of `timeout()`: `timeoutMs` is required (`timeout(ms)` is short for it). */
export interface TimeoutOptions {
  /** The deadline, from the start of the call. Required. */
  readonly timeoutMs: number;
  /**
   * What happens at the deadline; see `TimeoutStrategy`.
   * @defaultValue `'cooperative'`
   */
  readonly strategy?: TimeoutStrategy;
  /**
   * How precise the deadline is: it fires between `timeoutMs` and `timeoutMs + 2 × resolutionMs`,
   * in exchange for not reading the clock on every call.
   * @defaultValue 1 % of `timeoutMs`, at most 100 ms, and 0 (exact) for timeouts under a second
   */
  readonly resolutionMs?: number;
  /**
   * The clock for deadlines (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
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
 * One call under a timeout: the context handed to `fn` and the call's entry in the policy's
 * deadline queue, with the two handlers `fn`'s outcome goes to.
 */
class TimeoutRun implements DeadlineEntry {
  readonly context: AbortableContext;
  readonly deadline: number;
  nextEntry: DeadlineEntry | undefined;
  settled: boolean;
  timedOut: boolean;
  /** Release the caller at the deadline (aggressive strategy only). */
  rejectCaller: ((error: unknown) => void) | undefined;
  resolveCaller: ((value: unknown) => void) | undefined;
  readonly onValue: (value: unknown) => unknown;
  readonly onError: (error: unknown) => unknown;

  constructor(
    readonly policy: TimeoutPolicy,
    parent: ExecuteContext,
    deadline: number,
  ) {
    this.context = new AbortableContext(parent);
    this.deadline = deadline;
    this.nextEntry = undefined;
    this.settled = false;
    this.timedOut = false;
    this.rejectCaller = undefined;
    this.resolveCaller = undefined;
    if (policy.strategy === 'cooperative') {
      this.onValue = (value) => policy.succeeded(this, value);
      this.onError = (error) => {
        throw policy.settledWithError(this, error);
      };
    } else {
      this.onValue = (value) => policy.onAggressiveValue(this, value);
      this.onError = (error) => policy.onAggressiveError(this, error);
    }
  }

  expire(): void {
    this.timedOut = true;
    this.policy.expired(this);
  }

  dequeued(): void {}
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
    this.strategy =
      options.strategy === undefined
        ? 'cooperative'
        : check.oneOf('strategy', options.strategy, STRATEGIES);
    if (options.clock !== undefined && typeof options.clock?.schedule !== 'function') {
      throw check.configError('clock', options.clock, 'a Clock');
    }
    this.clock = options.clock ?? systemClock;
    const resolutionMs = check.nonNegativeNumber(
      'resolutionMs',
      options.resolutionMs ?? DeadlineQueue.resolutionFor(this.timeoutMs),
    );
    this.queue = new DeadlineQueue(this.clock, resolutionMs);
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    const deadline = this.queue.deadlineAfter(this.timeoutMs);
    this.counter.executions++;
    // A new run per call: reusing finished runs saved too little to be worth making every
    // handler read the run before finishing it (A/B in
    // docs/benchmarks.md#decisions-readable-over-nanoseconds).
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

  /**
   * Called by the deadline queue when a run's deadline passes before it settled.
   * @internal
   */
  expired(run: TimeoutRun): void {
    this.timeouts++;
    const error = withOperation(new TimeoutError(this.timeoutMs), run.context.operation);
    if (this.events.has('timeout')) {
      this.events.emit('timeout', {
        timeoutMs: this.timeoutMs,
        strategy: this.strategy,
        signalRead: run.context.signalRead,
        operation: run.context.operation,
      });
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
      run.onValue as (value: T) => T,
      run.onError as (error: unknown) => never,
    );
  }

  /** @internal A cooperative call that completes after its deadline still returns its result: the work is done. */
  succeeded<T>(run: TimeoutRun, value: T): T {
    this.counter.successes++;
    this.finish(run);
    return value;
  }

  /** @internal */
  settledWithError(run: TimeoutRun, error: unknown): unknown {
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
      Promise.resolve(result).then(run.onValue, run.onError);
    });
  }

  /** @internal */
  onAggressiveValue(run: TimeoutRun, value: unknown): void {
    const resolve = run.resolveCaller;
    run.resolveCaller = undefined;
    run.rejectCaller = undefined;
    this.finish(run);
    if (resolve === undefined) return; // released at the deadline already; the late value is dropped
    this.counter.successes++;
    resolve(value);
  }

  /** @internal */
  onAggressiveError(run: TimeoutRun, error: unknown): void {
    const reject = run.rejectCaller;
    run.resolveCaller = undefined;
    run.rejectCaller = undefined;
    this.finish(run);
    if (reject !== undefined) reject(this.failed(run, error));
  }

  /** The call is over: detach from the caller's signal and let the queue drop the deadline. */
  private finish(run: TimeoutRun): void {
    run.context.release();
    this.queue.settle(run);
  }

  /** The error the caller sees: a TimeoutError if the deadline passed, else the function's own. */
  private failed(run: TimeoutRun, error: unknown): unknown {
    if (run.timedOut) {
      this.counter.failure('timeout');
      if (error instanceof TimeoutError) return error;
      return withOperation(
        new TimeoutError(this.timeoutMs, { cause: error }),
        run.context.operation,
      );
    }
    this.counter.failure(classify(error).category);
    return error;
  }
}

/** Bounds how long a call may take: `timeout(5_000)` or `timeout({ timeoutMs, strategy })`. */
export function timeout(options: TimeoutOptions | number): TimeoutPolicy {
  if (typeof options === 'number') return new TimeoutPolicy({ timeoutMs: options });
  // Either form is fine; anything else is told both.
  if (typeof options !== 'object' || options === null)
    throw check.configError(
      'timeout',
      options,
      'milliseconds, as in timeout(2000), or options, as in timeout({ timeoutMs: 2000 })',
    );
  return new TimeoutPolicy(options);
}
