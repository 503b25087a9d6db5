import type { Redis } from 'ioredis';
import { scoped } from '../../validate/scoped.js';
import { RateLimitedError } from '../../faults/errors.js';
import { classify } from '../../faults/classify.js';
import { Events } from '../../observe/events.js';
import type { ExecuteOptions, Operation, Policy, PolicyStats } from '../../policies/policy.js';
import { StatsCounter } from '../../policies/stats.js';
import type { Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import { objectTag } from './keys.js';
import { defineScript, runScript } from './script.js';
import rateLimitTake from './scripts/rate-limit-take.lua.js';
import { enterCall, isRefused } from '../../policies/call-entry.js';
import { toStoreErrorFor } from './redis-errors.js';

/** Every option error names the option from `redisRateLimiter`. */
const check = scoped('redisRateLimiter');

const TAKE = defineScript('rate-limit-take', rateLimitTake);

export interface RedisRateLimiterOptions {
  /** An ioredis client; faultline never closes it. */
  readonly redis: Redis;
  /** The limiter's name: every process using the same prefix and name shares one bucket. */
  readonly name: string;
  /**
   * Key prefix.
   * @defaultValue `faultline`
   */
  readonly prefix?: string;
  /** Tokens added per second (calls per second in the long run), as for the in-process `rateLimiter`. */
  readonly rate: number;
  /**
   * Bucket size: the burst allowed after a quiet period.
   * @defaultValue max(1, rate)
   */
  readonly burst?: number;
  /**
   * How long `execute` may wait for a token before rejecting.
   * @defaultValue 0: reject at once
   */
  readonly maxWaitMs?: number;
  /**
   * Whose clock refills the bucket: `server` (Redis TIME, default: one clock for all machines)
   * or `caller` (this process's clock.wallTime(), for tests on virtual time).
   * @defaultValue 'server'
   */
  readonly time?: 'server' | 'caller';
  /**
   * What a call does when Redis cannot be reached: `reject` (default, fail closed) or `allow` (fail
   * open).
   * @defaultValue 'reject'
   */
  readonly whenUnreachable?: 'reject' | 'allow';
  /**
   * Waits and, with `time: 'caller'`, the refill clock.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

export interface RedisRateLimiterEvents {
  /** A token was granted (after `waitedMs` of waiting). */
  acquired: { readonly name: string; readonly waitedMs: number; readonly tokensLeft: number };
  /** No token within maxWaitMs: the call was refused (the fields of `RateLimiter`'s `rejected`). */
  rejected: { readonly limiter: string; readonly retryAfterMs: number };
  /** Redis failed; the call was allowed or refused per `whenUnreachable`. */
  unreachable: { readonly name: string; readonly error: unknown; readonly allowed: boolean };
}

export interface TakeResult {
  readonly granted: boolean;
  readonly tokensLeft: number;
  /** When not granted: ms until enough tokens will be there. */
  readonly retryAfterMs: number;
}

const OPTION_KEYS = [
  'redis',
  'name',
  'prefix',
  'rate',
  'burst',
  'maxWaitMs',
  'time',
  'whenUnreachable',
  'clock',
];

/**
 * A token bucket shared by every process through Redis, refilled and drawn in one Lua script so
 * that concurrent callers on many machines never overdraw it.
 */
export class RedisRateLimiter implements Policy<RedisRateLimiterEvents> {
  readonly kind = 'rateLimiter';
  readonly events = new Events<RedisRateLimiterEvents>();
  private readonly redis: Redis;
  private readonly name: string;
  private readonly key: string;
  private readonly ratePerMs: number;
  private readonly burst: number;
  private readonly maxWaitMs: number;
  private readonly time: 'server' | 'caller';
  private readonly whenUnreachable: 'reject' | 'allow';
  private readonly clock: Clock;
  private readonly ttlMs: number;
  private readonly counter = new StatsCounter();

  constructor(options: RedisRateLimiterOptions) {
    check.plainObject('options', options);
    check.knownKeys('options', options, OPTION_KEYS);
    if (
      options.redis === undefined ||
      typeof (options.redis as { evalsha?: unknown }).evalsha !== 'function'
    ) {
      throw check.configError('redis', options.redis, 'an ioredis client');
    }
    if (typeof options.name !== 'string' || options.name.length === 0)
      throw check.configError('name', options.name, 'a non-empty string');
    if (
      options.prefix !== undefined &&
      (typeof options.prefix !== 'string' || options.prefix.length === 0)
    ) {
      throw check.configError('prefix', options.prefix, 'a non-empty string');
    }
    const rate = check.positiveNumber('rate', options.rate);
    this.burst =
      options.burst === undefined
        ? Math.max(1, rate)
        : check.positiveNumber('burst', options.burst);
    this.maxWaitMs =
      options.maxWaitMs === undefined ? 0 : check.nonNegativeNumber('maxWaitMs', options.maxWaitMs);
    this.time =
      options.time === undefined
        ? 'server'
        : check.oneOf('time', options.time, ['server', 'caller']);
    this.whenUnreachable =
      options.whenUnreachable === undefined
        ? 'reject'
        : check.oneOf('whenUnreachable', options.whenUnreachable, ['reject', 'allow']);
    this.redis = options.redis;
    this.name = options.name;
    this.key = `${objectTag(options.prefix ?? 'faultline', 'rl', options.name)}:bucket`;
    this.ratePerMs = rate / 1000;
    this.clock = options.clock ?? systemClock;
    // Once full, the bucket's state is the default state: let the key expire then.
    this.ttlMs = Math.ceil(this.burst / this.ratePerMs) + 1_000;
  }

  /** Takes `tokens` if the bucket has them; never waits. */
  async tryTake(tokens = 1): Promise<TakeResult> {
    check.positiveNumber('tokens', tokens);
    if (tokens > this.burst)
      throw check.configError('tokens', tokens, `at most the burst (${this.burst})`);
    const now = this.time === 'server' ? '' : Math.floor(this.clock.wallTime());
    const reply = (await runScript(
      this.redis,
      TAKE,
      [this.key],
      [this.burst, this.ratePerMs, tokens, now, this.ttlMs],
    )) as [number, string, number];
    return { granted: reply[0] === 1, tokensLeft: Number(reply[1]), retryAfterMs: reply[2] };
  }

  async execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.counter.executions++;
    const started = this.clock.now();
    for (;;) {
      let result: TakeResult;
      try {
        result = await this.tryTake(1);
      } catch (thrown) {
        // The driver's error carries the command's arguments: it leaves scrubbed (redis-errors.ts).
        const error = toStoreErrorFor(this.redis, thrown);
        const allowed = this.whenUnreachable === 'allow';
        if (this.events.has('unreachable'))
          this.events.emit('unreachable', { name: this.name, error, allowed });
        if (!allowed) {
          this.counter.rejections++;
          throw error;
        }
        break;
      }
      if (result.granted) {
        if (this.events.has('acquired')) {
          this.events.emit('acquired', {
            name: this.name,
            waitedMs: this.clock.now() - started,
            tokensLeft: result.tokensLeft,
          });
        }
        break;
      }
      const waited = this.clock.now() - started;
      if (waited + result.retryAfterMs > this.maxWaitMs) {
        this.counter.rejections++;
        if (this.events.has('rejected'))
          this.events.emit('rejected', { limiter: this.name, retryAfterMs: result.retryAfterMs });
        throw new RateLimitedError(result.retryAfterMs);
      }
      await this.clock.sleep(Math.max(1, result.retryAfterMs), context.signal);
    }
    try {
      const value = await fn(context);
      this.counter.successes++;
      return value;
    } catch (error) {
      this.counter.failure(classify(error).category);
      throw error;
    }
  }

  stats(): PolicyStats {
    return this.counter.snapshot();
  }

  describe(): string {
    return `redisRateLimiter(${this.name}: ${this.ratePerMs * 1000}/s, burst ${this.burst})`;
  }
}
