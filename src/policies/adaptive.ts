import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import { FaultlineError } from '../faults/errors.js';
import type { FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import type { RandomSource } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import { CoarseNow } from '../time/coarse-now.js';
import { systemClock } from '../time/system-clock.js';
import { TimeBuckets } from './breaker-time-buckets.js';
import {
  type ExecuteOptions,
  withOperation,
  type Operation,
  type OperationContext,
  type Policy,
  type PolicyStats,
} from './policy.js';
import { settleCall } from './settle-call.js';
import { StatsCounter } from './stats.js';
import { enterCall, isRefused } from './call-entry.js';

/** Every option error names the option from `adaptive`. */
const check = scoped('adaptive');

/** Options of `adaptive()`; all optional. */
export interface AdaptiveOptions {
  /**
   * How many requests per accepted one are tolerated before rejecting locally (Google SRE's K):
   * 2 lets through about twice what the backend accepts; lower is more aggressive.
   * @defaultValue `2`
   */
  readonly k?: number;
  /**
   * The sliding window the rates are measured over.
   * @defaultValue `120_000`
   */
  readonly windowMs?: number;
  /**
   * Buckets in the window.
   * @defaultValue `12`
   */
  readonly buckets?: number;
  /**
   * Faults that mean the backend did not accept the request.
   * @defaultValue `['rate_limit', 'unavailable', 'timeout', 'network']`
   */
  readonly refusedCategories?: readonly FaultCategory[];
  /**
   * The largest factor `delayFactor()` returns.
   * @defaultValue `10`
   */
  readonly maxDelayFactor?: number;
  /**
   * The clock for the window (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * How stale the throttle's reading of the clock may be; its buckets are coarse anyway, and
   * reading the system clock on every call is a large part of the throttle's own cost.
   * @defaultValue a tenth of a bucket, at most 100 ms, on the system clock; 0 (exact) on any other
   */
  readonly resolutionMs?: number;
  /**
   * Decides which requests a throttled client still lets through (seed it in tests).
   * @defaultValue `Math.random`
   */
  readonly random?: RandomSource;
  /**
   * Turns thrown values into faults.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * A name for descriptions and events, e.g. the upstream it protects.
   * @defaultValue `undefined`
   */
  readonly name?: string;
}

/** Adaptive throttling refused the call locally: the backend has been refusing most requests. */
export class ThrottledError extends FaultlineError {
  override readonly refusedLocally = true;
  readonly category = 'unavailable' as const;
  readonly retryable = true;
  constructor(readonly rejectProbability: number) {
    super(
      `Throttled locally: the backend refused most recent requests (rejecting ${Math.round(rejectProbability * 100)}% of calls)`,
    );
  }
}

export interface AdaptiveThrottled {
  readonly throttle: string | undefined;
  readonly rejectProbability: number;
  readonly requests: number;
  readonly accepts: number;
  readonly operation?: OperationContext;
}

export interface AdaptiveEvents {
  throttled: AdaptiveThrottled;
}

export interface AdaptiveStats extends PolicyStats {
  /** Requests in the window, the locally rejected included. */
  readonly requests: number;
  /** Requests the backend accepted in the window. */
  readonly accepts: number;
  /** Share of the requests in the window that succeeded (1 with no data). */
  readonly successRate: number;
  /** The chance that the next call is rejected locally. */
  readonly rejectProbability: number;
  /** What `delayFactor()` returns now. */
  readonly delayFactor: number;
}

const DEFAULT_REFUSED: readonly FaultCategory[] = [
  'rate_limit',
  'unavailable',
  'timeout',
  'network',
];

/**
 * Slows down when the backend does. Client-side adaptive throttling (Google SRE book): over a
 * sliding window, a call is rejected locally with probability
 * `max(0, (requests − k·accepts) / (requests + 1))`, so an overloaded backend is not also
 * flooded with requests it would refuse anyway. And `delayFactor()` scales retry delays by the
 * recent success rate (1 when all is well, up to `maxDelayFactor` when little succeeds).
 */
export class AdaptiveThrottle implements Policy<AdaptiveEvents> {
  readonly kind = 'adaptive';
  readonly events = new Events<AdaptiveEvents>();
  readonly k: number;
  readonly maxDelayFactor: number;
  /** a: requests (locally rejected included), b: accepted by the backend, c: succeeded. */
  private readonly window: TimeBuckets;
  private readonly refused: ReadonlySet<FaultCategory>;
  private readonly time: CoarseNow;
  private readonly random: RandomSource;
  private readonly classify: ClassifyFunction;
  private readonly name: string | undefined;
  private readonly counter = new StatsCounter();
  /**
   * When the latest call started. Outcomes are counted at this time rather than at their own
   * end: one clock read per call instead of two, and a 2-minute window does not mind.
   */
  private lastSeen = 0;

  constructor(options: AdaptiveOptions = {}) {
    const o = check.plainObject('options', options);
    check.knownKeys('adaptive', o, [
      'k',
      'windowMs',
      'buckets',
      'refusedCategories',
      'maxDelayFactor',
      'clock',
      'resolutionMs',
      'random',
      'classify',
      'name',
    ]);
    this.k = check.positiveNumber('k', o.k ?? 2);
    const windowMs = check.positiveNumber('windowMs', o.windowMs ?? 120_000);
    const buckets = check.positiveInteger('buckets', o.buckets ?? 12);
    if (buckets > 10_000)
      throw check.configError('buckets', buckets, 'a whole number from 1 to 10,000');
    this.window = new TimeBuckets(windowMs, buckets);
    const refused = o.refusedCategories ?? DEFAULT_REFUSED;
    if (!Array.isArray(refused))
      throw check.configError('refusedCategories', refused, 'an array of fault categories');
    this.refused = new Set(refused.map((c, i) => check.category(`refusedCategories[${i}]`, c)));
    this.maxDelayFactor = check.positiveNumber('maxDelayFactor', o.maxDelayFactor ?? 10);
    if (this.maxDelayFactor < 1)
      throw check.configError('maxDelayFactor', this.maxDelayFactor, 'a number >= 1');
    const clock = (o.clock ?? systemClock) as Clock;
    if (typeof clock.now !== 'function' || typeof clock.schedule !== 'function')
      throw check.configError('clock', o.clock, 'a Clock');
    const preferredMs = Math.min(100, windowMs / buckets / 10);
    this.time = new CoarseNow(
      clock,
      check.nonNegativeNumber(
        'resolutionMs',
        o.resolutionMs ?? CoarseNow.defaultResolution(clock, preferredMs),
      ),
    );
    this.random = o.random === undefined ? Math.random : check.fn<RandomSource>('random', o.random);
    this.classify =
      o.classify === undefined
        ? defaultClassify
        : check.fn<ClassifyFunction>('classify', o.classify);
    this.name = o.name === undefined ? undefined : String(o.name);
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.counter.executions++;
    const now = this.time.now();
    this.lastSeen = now;
    this.window.advance(now);
    const p = this.currentProbability();
    // Rejected requests count as requests: that is what makes the throttle let go as accepts return.
    if (p > 0 && this.random() < p) {
      this.window.add(now, 1, 0, 0);
      return Promise.reject(this.throttled(p, context.operation));
    }
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  private readonly succeeded = (value: unknown): unknown => {
    this.counter.successes++;
    this.window.add(this.lastSeen, 1, 1, 1);
    return value;
  };

  private readonly failed = (error: unknown): never => {
    const category = this.classify(error).category;
    this.counter.failure(category);
    this.window.add(this.lastSeen, 1, this.refused.has(category) ? 0 : 1, 0);
    throw error;
  };

  private throttled(p: number, operation: OperationContext | undefined): ThrottledError {
    this.counter.rejections++;
    if (this.events.has('throttled')) {
      const event: AdaptiveThrottled = {
        throttle: this.name,
        rejectProbability: p,
        requests: this.window.a,
        accepts: this.window.b,
      };
      this.events.emit('throttled', operation === undefined ? event : { ...event, operation });
    }
    return withOperation(new ThrottledError(p), operation);
  }

  /** `max(0, (requests − k·accepts) / (requests + 1))` over the window. */
  rejectProbability(): number {
    this.window.advance(this.time.exact());
    return this.currentProbability();
  }

  /** The probability from the window as it stands (the caller advanced it). */
  private currentProbability(): number {
    const requests = this.window.a;
    return Math.max(0, (requests - this.k * this.window.b) / (requests + 1));
  }

  /**
   * Share of the requests in the window that succeeded, as the caller saw them: a request
   * rejected locally did not succeed either (1 with no data).
   */
  successRate(): number {
    this.window.advance(this.time.exact());
    return this.window.a === 0 ? 1 : this.window.c / this.window.a;
  }

  /**
   * How much to stretch retry delays now: `1 / successRate`, from 1 up to `maxDelayFactor`.
   * Hand the throttle to a retry (`retry({ delayFactor: throttle })`) so retries slow down as the
   * dependency degrades, and speed up again as it recovers.
   */
  delayFactor(): number {
    const rate = this.successRate();
    return Math.min(this.maxDelayFactor, rate > 0 ? 1 / rate : this.maxDelayFactor);
  }

  stats(): AdaptiveStats {
    return {
      ...this.counter.snapshot(),
      requests: this.window.a,
      accepts: this.window.b,
      successRate: this.successRate(),
      rejectProbability: this.rejectProbability(),
      delayFactor: this.delayFactor(),
    };
  }

  describe(): string {
    const name = this.name === undefined ? '' : ` "${this.name}"`;
    return `adaptive${name}: k=${this.k} over ${this.window.durationMs} ms`;
  }
}

/** Creates an adaptive throttle; see `AdaptiveOptions`. */
export function adaptive(options?: AdaptiveOptions): AdaptiveThrottle {
  return new AdaptiveThrottle(options);
}
