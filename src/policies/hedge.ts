import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import type { FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import { defaultPlan, RecoveryPlan } from '../recovery/plan.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import type {
  ExecuteContext,
  ExecuteOptions,
  Operation,
  OperationContext,
  Policy,
  PolicyStats,
} from './policy.js';
import { StatsCounter } from './stats.js';
import { AbortableContext } from './timeout-context.js';
import { type DeadlineEntry, DeadlineQueue } from './timeout-queue.js';
import { enterCall, isRefused } from './call-entry.js';

/** Every option error names the option from `hedge`. */
const check = scoped('hedge');

/** Options of `hedge()`: `delayMs` is required. */
export interface HedgeOptions {
  /** How long the first attempt runs alone before a second one starts. Required. */
  readonly delayMs: number;
  /**
   * Extra attempts at most.
   * @defaultValue `1`
   */
  readonly maxHedges?: number;
  /**
   * The clock for the delays (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Turns a failed attempt's error into a fault.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * Only failures this plan would retry start another attempt. Any other failure (a 400, a 401,
   * a 429, a plan that gives up) ends the call with that error at once.
   * @defaultValue `defaultPlan`
   */
  readonly plan?: RecoveryPlan;
}

export interface HedgeEvents {
  /** A hedged attempt started, `hedge` = 1 for the first extra attempt. */
  readonly hedge: {
    readonly hedge: number;
    /** Why: the delay passed, or an earlier attempt failed. */
    readonly trigger: 'delay' | 'failure';
    readonly operation: OperationContext | undefined;
  };
}

const KEYS = ['delayMs', 'maxHedges', 'clock', 'classify', 'plan'];

/** The reason a losing attempt's signal is aborted with. */
function hedgeLost(): Error {
  return new DOMException('Another hedged attempt finished first', 'AbortError');
}

/**
 * One hedged call: the caller's promise, its attempts' contexts, and its entry in the
 * policy's deadline queue (the next launch). A flat class built on every call: fields
 * assigned in the constructor, the array of extra attempts only when a hedge starts.
 */
class HedgeRun<T> implements DeadlineEntry {
  deadline: number;
  nextEntry: DeadlineEntry | undefined;
  settled: boolean;
  /** Attempts started so far. */
  launched: number;
  readonly promise: Promise<T>;
  private readonly first: AbortableContext;
  /** Attempts after the first (created only when a hedge starts). */
  private extra: AbortableContext[] | undefined;
  private running: number;
  private done: boolean;
  private lastError: unknown;
  /** Attempts that failed so far (the plan's attempt number). */
  private failures: number;
  private readonly resolve: (value: T) => void;
  private readonly reject: (error: unknown) => void;

  constructor(
    private readonly policy: HedgePolicy,
    private readonly parent: ExecuteContext,
    private readonly fn: Operation<T>,
  ) {
    this.first = new AbortableContext(parent);
    // An executor written in place: V8 inlines the Promise constructor around it. A shared
    // executor function that stored the resolvers in module variables measured slower.
    let resolve!: (value: T) => void;
    let reject!: (error: unknown) => void;
    this.promise = new Promise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.resolve = resolve;
    this.reject = reject;
    this.deadline = policy.deadlineFromNow();
    this.nextEntry = undefined;
    this.settled = false;
    this.launched = 0;
    this.extra = undefined;
    this.running = 0;
    this.done = false;
    this.lastError = undefined;
    this.failures = 0;
  }

  /** Starts the next attempt. */
  launch(): void {
    let context = this.first;
    if (this.launched > 0) {
      context = new AbortableContext(this.parent);
      if (this.extra === undefined) this.extra = [];
      this.extra.push(context);
    }
    this.launched++;
    this.running++;
    let result: PromiseLike<T> | T;
    try {
      result = this.fn(context);
    } catch (error) {
      this.failed(error);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.succeeded(context, value),
      (error) => this.failed(error),
    );
  }

  dequeued(): void {}

  expire(): void {
    if (this.done || this.launched > this.policy.maxHedges) return;
    this.policy.hedged(this.parent, this.launched, 'delay');
    this.launch();
    if (this.launched <= this.policy.maxHedges) {
      // More hedges allowed: come back after another delay.
      this.settled = false;
      this.deadline = this.policy.deadlineFromNow();
      this.policy.queue.add(this);
    }
  }

  private succeeded(winner: AbortableContext, value: T): void {
    this.running--;
    if (this.done) return;
    this.finish(winner);
    this.policy.counter.successes++;
    this.resolve(value);
  }

  private failed(error: unknown): void {
    this.running--;
    if (this.done) return;
    this.lastError = error;
    this.failures++;
    const fault = this.policy.classify(error);
    if (this.policy.plan.decide(fault, { attempt: this.failures }).action !== 'retry') {
      // The plan would not try this again (a 400, a 401, a 429...): neither does a hedge, and
      // the attempts still running would most likely hear the same answer.
      this.end(fault.category);
      return;
    }
    if (!this.parent.signal.aborted && this.launched <= this.policy.maxHedges) {
      // Do not wait for the delay: the attempt in hand has already failed.
      this.policy.hedged(this.parent, this.launched, 'failure');
      this.launch();
      return;
    }
    if (this.running > 0) return; // another attempt may still succeed
    this.end(fault.category);
  }

  /** Fails the call with the last error; every attempt still running is aborted. */
  private end(category: FaultCategory): void {
    this.finish(undefined);
    this.policy.counter.failure(category);
    this.reject(this.lastError);
  }

  private finish(winner: AbortableContext | undefined): void {
    this.done = true;
    this.policy.queue.settle(this);
    endAttempt(this.first, winner);
    if (this.extra !== undefined) for (const attempt of this.extra) endAttempt(attempt, winner);
  }
}

function endAttempt(attempt: AbortableContext, winner: AbortableContext | undefined): void {
  if (attempt !== winner) attempt.abort(hedgeLost());
  attempt.release();
}

/**
 * Hedged requests: when the first attempt is slow, start another; the first success wins
 * and the others are aborted through their signals. A failed attempt starts the next one at
 * once only when the plan would retry its fault; any other failure ends the call. Trades extra load for tail latency, so
 * use it on idempotent reads.
 */
export class HedgePolicy implements Policy<HedgeEvents> {
  readonly kind = 'hedge';
  readonly events = new Events<HedgeEvents>();
  readonly delayMs: number;
  readonly maxHedges: number;
  /** @internal */
  readonly counter = new StatsCounter();
  /** @internal */
  readonly queue: DeadlineQueue;
  /** @internal */
  readonly classify: ClassifyFunction;
  /** @internal */
  readonly plan: RecoveryPlan;
  private readonly clock: Clock;

  constructor(options: HedgeOptions) {
    const opts = check.plainObject('hedge', options);
    check.knownKeys('hedge', opts, KEYS);
    this.delayMs = check.nonNegativeNumber('delayMs', options.delayMs);
    this.maxHedges = check.positiveInteger('maxHedges', options.maxHedges ?? 1);
    if (options.clock !== undefined && typeof options.clock?.schedule !== 'function') {
      throw check.configError('clock', options.clock, 'a Clock');
    }
    this.clock = options.clock ?? systemClock;
    this.classify =
      options.classify === undefined ? defaultClassify : check.fn('classify', options.classify);
    if (options.plan !== undefined && !(options.plan instanceof RecoveryPlan)) {
      throw check.configError('plan', options.plan, 'a RecoveryPlan made by recoveryPlan()');
    }
    this.plan = options.plan ?? defaultPlan;
    this.queue = new DeadlineQueue(this.clock, DeadlineQueue.resolutionFor(this.delayMs));
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const parent = enterCall(fn, options);
    if (isRefused(parent)) return parent.promise();
    this.counter.executions++;
    const run = new HedgeRun(this, parent, fn);
    this.queue.add(run);
    run.launch();
    return run.promise;
  }

  stats(): PolicyStats {
    return this.counter.snapshot();
  }

  describe(): string {
    return `hedge(after ${this.delayMs} ms, up to ${this.maxHedges} extra)`;
  }

  /** @internal */
  deadlineFromNow(): number {
    return this.queue.deadlineAfter(this.delayMs);
  }

  /** @internal Counts and reports a hedge about to start. */
  hedged(parent: ExecuteContext, hedge: number, trigger: 'delay' | 'failure'): void {
    this.counter.retries++;
    if (this.events.has('hedge'))
      this.events.emit('hedge', { hedge, trigger, operation: parent.operation });
  }
}

/** `hedge({ delayMs: 200 })`: a second attempt if the first takes longer than 200 ms. */
export function hedge(options: HedgeOptions): HedgePolicy {
  return new HedgePolicy(options);
}
