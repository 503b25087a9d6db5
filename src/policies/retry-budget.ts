import { scoped } from '../validate/scoped.js';
import { Events } from '../observe/events.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import type { ExecuteContext } from './policy.js';

/** Every option error names the option from `retryBudget`. */
const check = scoped('retryBudget');

/**
 * A retry budget caps retries as a share of recent traffic (the Finagle / Envoy design):
 * retries are allowed while `retries <= ratio × requests + minRetriesPerSecond × window`
 * over a sliding window. One budget is meant to be shared by every retry policy that calls
 * the same dependency, including retry layers nested inside each other, so that a failing
 * dependency sees at most `1 + ratio` calls per request instead of `attempts ^ layers`.
 */
export interface RetryBudgetOptions {
  /**
   * Retries allowed per request in the window, 0..1 (0.1: one retry per ten requests).
   * @defaultValue `0.1`
   */
  readonly ratio?: number;
  /**
   * Retries always allowed per second, so that low traffic can still retry.
   * @defaultValue `1`
   */
  readonly minRetriesPerSecond?: number;
  /**
   * Length of the sliding window.
   * @defaultValue `10_000`
   */
  readonly windowMs?: number;
  /**
   * Buckets the window is split into; more is smoother, costs a little memory.
   * @defaultValue `10`
   */
  readonly buckets?: number;
  /**
   * The clock for the window (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

export interface RetryBudgetEvents {
  /** A retry was refused because the budget was spent. */
  readonly exhausted: {
    readonly requests: number;
    readonly retries: number;
    readonly allowed: number;
  };
}

export interface RetryBudgetStats {
  /** Requests and retries counted in the current window. */
  readonly requests: number;
  readonly retries: number;
  /** Retries the window allows right now. */
  readonly allowed: number;
  /** Retries refused since the budget was made. */
  readonly refused: number;
}

const KEYS = ['ratio', 'minRetriesPerSecond', 'windowMs', 'buckets', 'clock'];

export class RetryBudget {
  readonly kind = 'retryBudget';
  readonly events = new Events<RetryBudgetEvents>();
  readonly ratio: number;
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
  private readonly clock: Clock;
  private readonly bucketMs: number;
  // A ring of buckets, zeroed lazily as time moves past them: O(1) per call and no timer.
  private readonly requestCounts: Float64Array;
  private readonly retryCounts: Float64Array;
  private requestsInWindow = 0;
  private retriesInWindow = 0;
  private lastEpoch = Number.NEGATIVE_INFINITY;
  private refused = 0;

  constructor(options: RetryBudgetOptions = {}) {
    check.knownKeys('retryBudget', check.plainObject('retryBudget', options), KEYS);
    this.ratio = check.ratio('ratio', options.ratio ?? 0.1);
    this.minRetriesPerSecond = check.nonNegativeNumber(
      'minRetriesPerSecond',
      options.minRetriesPerSecond ?? 1,
    );
    this.windowMs = check.positiveNumber('windowMs', options.windowMs ?? 10_000);
    const buckets = check.positiveInteger('buckets', options.buckets ?? 10);
    if (buckets > 1000)
      throw check.configError('buckets', buckets, 'a whole number from 1 to 1000');
    if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
      throw check.configError('clock', options.clock, 'a Clock');
    }
    this.clock = options.clock ?? systemClock;
    this.bucketMs = this.windowMs / buckets;
    this.requestCounts = new Float64Array(buckets);
    this.retryCounts = new Float64Array(buckets);
  }

  /** Counts one request (a first attempt). Retry policies call this; so may hand-written loops. */
  recordRequest(): void {
    const slot = this.advance();
    this.requestCounts[slot]!++;
    this.requestsInWindow++;
  }

  /**
   * Asks to spend one retry. Returns false when the budget is spent; the caller must then
   * not retry (a retry policy fails fast with the original error).
   */
  tryRetry(): boolean {
    const slot = this.advance();
    const allowed = this.allowed();
    if (this.retriesInWindow + 1 > allowed) {
      this.refused++;
      if (this.events.has('exhausted')) {
        this.events.emit('exhausted', {
          requests: this.requestsInWindow,
          retries: this.retriesInWindow,
          allowed,
        });
      }
      return false;
    }
    this.retryCounts[slot]!++;
    this.retriesInWindow++;
    return true;
  }

  stats(): RetryBudgetStats {
    this.advance();
    return {
      requests: this.requestsInWindow,
      retries: this.retriesInWindow,
      allowed: this.allowed(),
      refused: this.refused,
    };
  }

  describe(): string {
    return `retryBudget(${this.ratio * 100}% of requests + ${this.minRetriesPerSecond}/s over ${this.windowMs} ms)`;
  }

  private allowed(): number {
    return this.ratio * this.requestsInWindow + (this.minRetriesPerSecond * this.windowMs) / 1000;
  }

  /** Expires buckets that fell out of the window; returns the slot for now. */
  private advance(): number {
    const epoch = Math.floor(this.clock.now() / this.bucketMs);
    const size = this.requestCounts.length;
    const slot = ((epoch % size) + size) % size;
    if (epoch === this.lastEpoch) return slot;
    if (epoch - this.lastEpoch >= size) {
      // Everything is stale: start afresh.
      this.requestCounts.fill(0);
      this.retryCounts.fill(0);
      this.requestsInWindow = 0;
      this.retriesInWindow = 0;
    } else {
      for (let e = this.lastEpoch + 1; e <= epoch; e++) {
        const s = ((e % size) + size) % size;
        this.requestsInWindow -= this.requestCounts[s]!;
        this.retriesInWindow -= this.retryCounts[s]!;
        this.requestCounts[s] = 0;
        this.retryCounts[s] = 0;
      }
    }
    this.lastEpoch = epoch;
    return slot;
  }
}

/** Makes a retry budget to share between retry policies. */
export function retryBudget(options?: RetryBudgetOptions): RetryBudget {
  return new RetryBudget(options);
}

/**
 * Nested retry layers that share one budget count a request once: a retry policy marks the
 * contexts it hands to its function with its budget, and an inner retry policy that sees
 * its own budget there does not count another request.
 */
const BUDGET_SCOPE = Symbol('faultline.retryBudgetScope');

interface ScopedContext extends ExecuteContext {
  readonly [BUDGET_SCOPE]?: RetryBudget;
}

export function budgetOf(context: ExecuteContext): RetryBudget | undefined {
  return (context as ScopedContext)[BUDGET_SCOPE];
}

/** Marks a context (a fresh object the caller owns) as running under `budget`. */
export function markBudget<C extends ExecuteContext>(
  context: C,
  budget: RetryBudget | undefined,
): C {
  if (budget !== undefined) (context as { [BUDGET_SCOPE]?: RetryBudget })[BUDGET_SCOPE] = budget;
  return context;
}
