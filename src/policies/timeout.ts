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
  ROOT_CONTEXT,
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
 * Spare runs kept per policy (a few hundred bytes each, so at most a few hundred KB, and only
 * after that many calls were in flight at once). Calls beyond it in flight get runs made for
 * them, which then cost a little more than a spare one (`bench/ab.ts --in-flight 2000`).
 */
const MAX_SPARE_RUNS = 1024;

/** What a spare run holds instead of its last call's context. */
const IDLE_CONTEXT = new AbortableContext(ROOT_CONTEXT);

/**
 * One call under a timeout: the context handed to `fn` (new for every call: `fn` may keep it),
 * and the call's entry in the policy's deadline queue. Runs are reused once their call is over
 * and they have left the queue, so their two handlers are made once, not per call (measured in docs/benchmarks.md, per
 * cooperative call, `bench/ab.ts`). `finished` and `queued` say when that is.
 */
class TimeoutRun implements DeadlineEntry {
  context: AbortableContext;
  deadline: number;
  nextEntry: DeadlineEntry | undefined;
  settled: boolean;
  timedOut: boolean;
  /** `fn` has settled (the run is reusable once it has also left the queue). */
  finished: boolean;
  queued: boolean;
  /** Release the caller at the deadline (aggressive strategy only). */
  rejectCaller: ((error: unknown) => void) | undefined;
  resolveCaller: ((value: unknown) => void) | undefined;
  /** What `fn`'s outcome goes to: made once per run, not per call. */
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
    this.finished = false;
    this.queued = false;
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

  /** Readies a spare run for another call. */
  reuse(parent: ExecuteContext, deadline: number): void {
    this.context = new AbortableContext(parent);
    this.deadline = deadline;
    this.settled = false;
    this.timedOut = false;
    this.finished = false;
  }

  expire(): void {
    this.timedOut = true;
    this.policy.expired(this);
  }

  dequeued(): void {
    this.queued = false;
    if (this.finished) this.policy.recycle(this);
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
  /** Runs ready for reuse: their handlers are made once instead of on every call. */
  private readonly spare: TimeoutRun[] = [];

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
    let run = this.spare.pop();
    if (run === undefined) run = new TimeoutRun(this, context, deadline);
    else run.reuse(context, deadline);
    run.queued = true;
    this.queue.add(run);
    return this.strategy === 'cooperative' ? this.cooperative(run, fn) : this.aggressive(run, fn);
  }

  /** @internal A run whose call is over and that has left the queue: kept for the next call. */
  recycle(run: TimeoutRun): void {
    if (this.spare.length >= MAX_SPARE_RUNS) return;
    run.context = IDLE_CONTEXT; // keep nothing of the last caller's alive
    this.spare.push(run);
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
    // Read the run before finishing it: a finished run may be handed to the next call.
    const passedOn = this.failed(run, error);
    this.finish(run);
    return passedOn;
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
    // Read the run before finishing it: a finished run may be handed to the next call.
    const passedOn = reject === undefined ? undefined : this.failed(run, error);
    this.finish(run);
    if (reject !== undefined) reject(passedOn);
  }

  /** The call is over: detach from the caller's signal, and hand the run back once it is out of the queue. */
  private finish(run: TimeoutRun): void {
    run.context.release();
    run.finished = true;
    if (run.queued)
      this.queue.settle(run); // it is recycled by `dequeued` when it leaves the queue
    else this.recycle(run); // it expired, and left the queue then
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
