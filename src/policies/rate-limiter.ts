import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import { RateLimitedError } from '../faults/errors.js';
import { Events } from '../observe/events.js';
import type { CancelTimer, Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import {
  type ExecuteContext,
  withOperation,
  type ExecuteOptions,
  type Operation,
  type OperationContext,
  type Policy,
  type PolicyStats,
} from './policy.js';
import { settleCall } from './settle-call.js';
import { StatsCounter } from './stats.js';
import { WaitQueue } from './wait-queue.js';
import { enterCall, isRefused } from './call-entry.js';

/** Every option error names the option from `rateLimiter`. */
const check = scoped('rateLimiter');

export type RateLimiterMode = 'wait' | 'reject';

/** Options of `rateLimiter()`: `rate` is required. */
export interface RateLimiterOptions {
  /** Tokens added per second (calls per second in the long run). Required. */
  readonly rate: number;
  /**
   * Bucket size: calls allowed at once after a quiet spell.
   * @defaultValue `max(1, rate)`
   */
  readonly burst?: number;
  /**
   * `wait`: callers queue in FIFO order for a token. `reject`: `RateLimitedError` at once.
   * @defaultValue `'wait'`
   */
  readonly mode?: RateLimiterMode;
  /**
   * In `wait` mode, refuse (RateLimitedError) a caller whose turn is further away than this.
   * @defaultValue no limit
   */
  readonly maxWaitMs?: number;
  /**
   * How precise the bucket is when it is nearly full: it may hold back up to this many tokens
   * of the burst, in exchange for reading the clock once per that many admitted calls instead
   * of on every call (on some virtual machines a clock read is a large part of the limiter's
   * cost: its exact case in docs/benchmarks.md). It never admits more than `burst + rate × t`, whatever this is.
   * @defaultValue 1 % of the burst, in whole tokens: 0 (exact) for a burst under 100
   */
  readonly resolutionTokens?: number;
  /**
   * The clock for refills and waits (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Classifies failures for `stats().failuresByCategory`.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * A name for descriptions and events.
   * @defaultValue `undefined`
   */
  readonly name?: string;
}

export interface RateLimitRejection {
  readonly limiter: string | undefined;
  /** When a token will be there for this caller. */
  readonly retryAfterMs: number;
  readonly operation?: OperationContext;
}

export interface RateLimiterEvents {
  rejected: RateLimitRejection;
}

export interface RateLimiterStats extends PolicyStats {
  /** Tokens in the bucket now (fractional). */
  readonly tokens: number;
  /** Callers waiting for a token now. */
  readonly queued: number;
}

/** Float error in the refill must not leave a caller waiting for 1e-13 of a token. */
const EPSILON = 1e-9;

/**
 * A token bucket: `burst` calls at once, `rate` per second in the long run. The bucket is
 * refilled from the clock when a call arrives, not by a ticking timer; in `wait` mode one timer
 * (only while someone waits) wakes the queue when the next token is due.
 *
 * With a `resolutionTokens` of K > 0, up to K calls in a row take a token without reading the
 * clock. Their tokens are counted as if taken at the next reading: since taking a token later
 * never leaves a bucket fuller than taking it earlier, the level this assumes is never above
 * the true one, so no call is admitted that an exact bucket would refuse. The cost is that a
 * bucket that was full in between may be credited up to K tokens less.
 */
export class RateLimiter implements Policy<RateLimiterEvents> {
  readonly kind = 'rateLimiter';
  readonly events = new Events<RateLimiterEvents>();
  readonly rate: number;
  readonly burst: number;
  readonly mode: RateLimiterMode;
  private readonly perMs: number;
  private readonly maxWaitMs: number;
  private readonly clock: Clock;
  private readonly classify: ClassifyFunction;
  private readonly name: string | undefined;
  private readonly resolutionTokens: number;
  /** Tokens at `refilledAt`, less those taken since without reading the clock. */
  private tokens: number;
  private refilledAt: number;
  /** Tokens taken since `refilledAt` without reading the clock. */
  private takenUnread = 0;
  /** Calls that may still take a token before the clock must be read again. */
  private unreadAllowance = 0;
  private readonly queue = new WaitQueue(() => this.queueShrank());
  private cancelTimer: CancelTimer | undefined;
  private readonly counter = new StatsCounter();

  constructor(options: RateLimiterOptions) {
    const o = check.plainObject('options', options);
    check.knownKeys('rateLimiter', o, [
      'rate',
      'burst',
      'mode',
      'maxWaitMs',
      'resolutionTokens',
      'clock',
      'classify',
      'name',
    ]);
    this.rate = check.positiveNumber('rate', o.rate);
    this.burst =
      o.burst === undefined ? Math.max(1, this.rate) : check.positiveNumber('burst', o.burst);
    if (this.burst < 1)
      throw check.configError(
        'burst',
        this.burst,
        'a number >= 1 (a bucket must hold one whole token)',
      );
    this.mode =
      o.mode === undefined ? 'wait' : check.oneOf('mode', o.mode, ['wait', 'reject'] as const);
    this.maxWaitMs = check.limit('maxWaitMs', o.maxWaitMs ?? Number.POSITIVE_INFINITY);
    this.resolutionTokens =
      o.resolutionTokens === undefined
        ? Math.floor(this.burst / 100)
        : check.nonNegativeInteger('resolutionTokens', o.resolutionTokens);
    this.clock = (o.clock ?? systemClock) as Clock;
    if (typeof this.clock.now !== 'function') throw check.configError('clock', o.clock, 'a Clock');
    this.classify =
      o.classify === undefined
        ? defaultClassify
        : check.fn<ClassifyFunction>('classify', o.classify);
    this.name = o.name === undefined ? undefined : String(o.name);
    this.perMs = this.rate / 1000;
    this.tokens = this.burst;
    this.refilledAt = this.clock.now();
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.counter.executions++;
    if (this.unreadAllowance > 0 && this.tokens >= 1 && this.queue.length === 0) {
      this.unreadAllowance--;
      this.takenUnread++;
    } else {
      this.refill();
      // Take a token only when nobody is queued ahead: waiting callers are served in order.
      if (this.queue.length > 0 || this.tokens < 1 - EPSILON)
        return this.executeQueued(fn, context);
    }
    this.tokens--;
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  private async executeQueued<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    await this.waitForToken(context.signal, context.operation);
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  private readonly succeeded = (value: unknown): unknown => {
    this.counter.successes++;
    return value;
  };

  private readonly failed = (error: unknown): never => {
    this.counter.failure(this.classify(error).category);
    throw error;
  };

  private waitForToken(
    signal: AbortSignal,
    operation: OperationContext | undefined,
  ): Promise<void> {
    // This caller's token comes after those of everyone already waiting.
    const waitMs = this.msUntilTokens(this.queue.length + 1);
    if (this.mode === 'reject' || waitMs > this.maxWaitMs)
      return Promise.reject(this.reject(waitMs, operation));
    const turn = this.queue.wait(signal);
    if (this.cancelTimer === undefined) this.arm();
    return turn;
  }

  private reject(waitMs: number, operation: OperationContext | undefined): RateLimitedError {
    this.counter.rejections++;
    const retryAfterMs = Math.ceil(waitMs);
    if (this.events.has('rejected')) {
      const event: RateLimitRejection = { limiter: this.name, retryAfterMs };
      this.events.emit('rejected', operation === undefined ? event : { ...event, operation });
    }
    return withOperation(new RateLimitedError(retryAfterMs), operation);
  }

  /**
   * Brings the bucket to the clock's time. Tokens taken without a clock reading are counted as
   * taken now (see the class comment); tokens taken right after a refill were taken at its time.
   */
  private refill(): void {
    const now = this.clock.now();
    if (now > this.refilledAt) {
      const taken = this.takenUnread;
      this.tokens =
        Math.min(this.burst, this.tokens + taken + (now - this.refilledAt) * this.perMs) - taken;
      this.refilledAt = now;
    }
    this.takenUnread = 0;
    this.unreadAllowance = this.resolutionTokens;
  }

  /** Milliseconds until the bucket holds `count` tokens (0 if it does). */
  private msUntilTokens(count: number): number {
    const missing = count - this.tokens;
    return missing <= EPSILON ? 0 : missing / this.perMs;
  }

  /** One timer for the whole queue: due when the head's token is. */
  private arm(): void {
    this.cancelTimer = this.clock.schedule(this.msUntilTokens(1), () => this.wake());
  }

  private wake(): void {
    this.cancelTimer = undefined;
    this.refill();
    while (this.queue.length > 0 && this.tokens >= 1 - EPSILON) {
      this.tokens--;
      this.queue.wakeNext();
    }
    if (this.queue.length > 0) this.arm();
  }

  /** A waiter aborted: with nobody left, the timer goes too (nothing pending after the last caller). */
  private queueShrank(): void {
    if (this.queue.length === 0 && this.cancelTimer !== undefined) {
      this.cancelTimer();
      this.cancelTimer = undefined;
    }
  }

  stats(): RateLimiterStats {
    this.refill();
    return { ...this.counter.snapshot(), tokens: this.tokens, queued: this.queue.length };
  }

  describe(): string {
    const name = this.name === undefined ? '' : ` "${this.name}"`;
    return `rateLimiter${name}: ${this.rate}/s, burst ${this.burst}, ${this.mode}`;
  }
}

/** Creates a token-bucket rate limiter; see `RateLimiterOptions`. */
export function rateLimiter(options: RateLimiterOptions): RateLimiter {
  return new RateLimiter(options);
}
