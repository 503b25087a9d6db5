import type { Redis } from 'ioredis';
import { scoped } from '../../validate/scoped.js';
import { Events } from '../../observe/events.js';
import type { Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import { objectTag } from './keys.js';
import { defineScript, runScript } from './script.js';
import retryBudgetScript from './scripts/retry-budget.lua.js';
import { toStoreErrorFor } from './redis-errors.js';

/** Every option error names the option from `redisRetryBudget`. */
const check = scoped('redisRetryBudget');

const BUDGET = defineScript('retry-budget', retryBudgetScript);

export interface RedisRetryBudgetOptions {
  /** An ioredis client; faultline never closes it. */
  readonly redis: Redis;
  /** Every process using the same prefix and name shares this budget. */
  readonly name: string;
  /**
   * Prefix of the budget's key.
   * @defaultValue 'faultline'
   */
  readonly prefix?: string;
  /**
   * Retries allowed per first attempt within the window, fleet-wide.
   * @defaultValue 0.1
   */
  readonly ratio?: number;
  /**
   * Retries always allowed per second of the window, so a quiet fleet can still retry.
   * @defaultValue 1
   */
  readonly minRetriesPerSecond?: number;
  /**
   * The sliding window, kept as 10 buckets.
   * @defaultValue 10 000 ms
   */
  readonly windowMs?: number;
  /**
   * `server` (Redis TIME, default) or `caller` (clock.wallTime()).
   * @defaultValue 'server'
   */
  readonly time?: 'server' | 'caller';
  /**
   * When Redis cannot be reached, retries are `denied` or `allowed`.
   * @defaultValue protect the dependency
   */
  readonly whenUnreachable?: 'denied' | 'allowed';
  /**
   * The caller's clock (with `time: 'caller'`).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

export interface RedisRetryBudgetEvents {
  /**
   * A retry was refused: the fleet spent its budget. The fields of `RetryBudget`'s `exhausted`:
   * first attempts and retries in the window, and the retries they allow.
   */
  exhausted: {
    readonly name: string;
    readonly requests: number;
    readonly retries: number;
    readonly allowed: number;
  };
  unreachable: { readonly name: string; readonly error: unknown };
}

export interface RetryBudgetState {
  readonly allowed: boolean;
  /** First attempts recorded in the window by every process. */
  readonly calls: number;
  /** Retries granted in the window by every process. */
  readonly retries: number;
}

const OPTION_KEYS = [
  'redis',
  'name',
  'prefix',
  'ratio',
  'minRetriesPerSecond',
  'windowMs',
  'time',
  'whenUnreachable',
  'clock',
];
const BUCKETS = 10;

/**
 * A retry budget shared through Redis: every process records its first attempts and asks before
 * each retry, so retries stay a bounded fraction of the whole fleet's traffic (no retry storm
 * when a dependency goes down for everyone at once).
 */
export class RedisRetryBudget {
  readonly events = new Events<RedisRetryBudgetEvents>();
  private readonly redis: Redis;
  private readonly name: string;
  private readonly key: string;
  private readonly ratio: number;
  private readonly minRetries: number;
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly time: 'server' | 'caller';
  private readonly whenUnreachable: 'denied' | 'allowed';
  private readonly clock: Clock;

  constructor(options: RedisRetryBudgetOptions) {
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
    this.redis = options.redis;
    this.name = options.name;
    this.key = `${objectTag(options.prefix ?? 'faultline', 'rb', options.name)}:window`;
    this.ratio =
      options.ratio === undefined ? 0.1 : check.nonNegativeNumber('ratio', options.ratio);
    const minPerSecond =
      options.minRetriesPerSecond === undefined
        ? 1
        : check.nonNegativeNumber('minRetriesPerSecond', options.minRetriesPerSecond);
    this.windowMs =
      options.windowMs === undefined ? 10_000 : check.positiveInteger('windowMs', options.windowMs);
    // The script counts whole retries per window.
    this.minRetries = Math.floor((minPerSecond * this.windowMs) / 1000);
    if (this.windowMs < BUCKETS)
      throw check.configError('windowMs', this.windowMs, `at least ${BUCKETS}`);
    this.bucketMs = Math.ceil(this.windowMs / BUCKETS);
    this.time =
      options.time === undefined
        ? 'server'
        : check.oneOf('time', options.time, ['server', 'caller']);
    this.whenUnreachable =
      options.whenUnreachable === undefined
        ? 'denied'
        : check.oneOf('whenUnreachable', options.whenUnreachable, ['denied', 'allowed']);
    this.clock = options.clock ?? systemClock;
  }

  /** Records a request's first attempt (it earns `ratio` retries for the fleet), as `RetryBudget.recordRequest`. */
  async recordRequest(): Promise<RetryBudgetState> {
    return this.run('call');
  }

  /** Asks for one retry; `allowed: false` means the fleet's budget is spent: fail fast instead. */
  async tryRetry(): Promise<RetryBudgetState> {
    const state = await this.run('retry');
    if (!state.allowed && this.events.has('exhausted')) {
      this.events.emit('exhausted', {
        name: this.name,
        requests: state.calls,
        retries: state.retries,
        // The script's rule: a retry is allowed while retries < max(minRetries, calls × ratio).
        allowed: Math.max(this.minRetries, state.calls * this.ratio),
      });
    }
    return state;
  }

  /** The window's counts, changing nothing. */
  async peek(): Promise<RetryBudgetState> {
    return this.run('peek');
  }

  private async run(operation: 'call' | 'retry' | 'peek'): Promise<RetryBudgetState> {
    const now = this.time === 'server' ? '' : Math.floor(this.clock.wallTime());
    try {
      const reply = (await runScript(
        this.redis,
        BUDGET,
        [this.key],
        [operation, now, this.windowMs, this.bucketMs, this.ratio, this.minRetries],
      )) as [number, number, number];
      return { allowed: reply[0] === 1, calls: reply[1], retries: reply[2] };
    } catch (thrown) {
      const error = toStoreErrorFor(this.redis, thrown);
      if (this.events.has('unreachable'))
        this.events.emit('unreachable', { name: this.name, error });
      if (operation === 'retry' && this.whenUnreachable === 'denied')
        return { allowed: false, calls: 0, retries: 0 };
      if (operation === 'retry') return { allowed: true, calls: 0, retries: 0 };
      // Losing one first-attempt record only makes the budget a little stricter.
      if (operation === 'call') return { allowed: true, calls: 0, retries: 0 };
      throw error;
    }
  }

  describe(): string {
    return `redisRetryBudget(${this.name}: ${this.ratio * 100}% of requests + ${this.minRetries} per ${this.windowMs} ms)`;
  }
}
