import type { Redis } from 'ioredis';
import { scoped } from '../../validate/scoped.js';
import { Events } from '../../observe/events.js';
import {
  RetryBudget,
  type RetryBudgetOptions,
  type RetryBudgetStats,
} from '../../policies/retry-budget.js';
import type { CancelTimer, Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import { objectTag } from './keys.js';
import { defineScript, runScript } from './script.js';
import retryBudgetScript from './scripts/retry-budget.lua.js';
import { toStoreErrorFor } from './redis-errors.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

/** Every option error names the option from `sharedRetryBudget`. */
const check = scoped('sharedRetryBudget');

const BUDGET = defineScript('retry-budget', retryBudgetScript);

export interface SharedRetryBudgetOptions extends RetryBudgetOptions {
  /** An ioredis client; faultline never closes it. */
  readonly redis: Redis;
  /** Every process with the same prefix and name shares this budget. */
  readonly name: string;
  /**
   * Prefix of the shared window's key.
   * @defaultValue 'faultline'
   */
  readonly prefix?: string;
  /**
   * How often this process adds its counts to the fleet's and reads the fleet's back.
   * @defaultValue 200 ms
   */
  readonly syncEveryMs?: number;
}

export interface SharedRetryBudgetEvents {
  unreachable: { readonly name: string; readonly error: unknown };
}

const OWN_KEYS = ['redis', 'name', 'prefix', 'syncEveryMs'];

/**
 * A `RetryBudget` (pass it to `retry({ budget })`) whose window counts the requests and retries
 * of every process. Decisions stay synchronous and local: this process decides from the fleet's
 * totals as of the last sync plus its own counts since, and adds its counts to Redis every
 * `syncEveryMs`. So the fleet-wide bound holds up to what the processes grant between two syncs.
 * For a decision taken in Redis on every retry, use the async `RedisRetryBudget`.
 * When Redis cannot be reached, each process keeps deciding from its own counts.
 */
export class SharedRetryBudget extends RetryBudget {
  readonly sharedEvents = new Events<SharedRetryBudgetEvents>();
  private readonly redis: Redis;
  private readonly budgetName: string;
  private readonly key: string;
  private readonly syncEveryMs: number;
  private readonly sharedClock: Clock;
  /** Redis TIME for the window unless a clock was given (tests on virtual time). */
  private readonly callerTime: boolean;
  private readonly minRetriesPerWindow: number;
  private fleet = { requests: 0, retries: 0, at: Number.NEGATIVE_INFINITY };
  private pending = { requests: 0, retries: 0 };
  private refusedShared = 0;
  private cancelSync: CancelTimer | undefined;
  private syncing: Promise<void> | undefined;

  constructor(options: SharedRetryBudgetOptions) {
    check.plainObject('options', options);
    const local: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options))
      if (!OWN_KEYS.includes(key)) local[key] = value;
    super(local as RetryBudgetOptions);
    if (
      options.redis === undefined ||
      typeof (options.redis as { evalsha?: unknown }).evalsha !== 'function'
    ) {
      throw check.configError('redis', options.redis, 'an ioredis client');
    }
    if (typeof options.name !== 'string' || options.name.length === 0)
      throw check.configError('name', options.name, 'a non-empty string');
    this.redis = options.redis;
    this.budgetName = options.name;
    this.key = `${objectTag(options.prefix ?? 'faultline', 'rb', options.name)}:window`;
    this.syncEveryMs =
      options.syncEveryMs === undefined
        ? 200
        : check.positiveNumber('syncEveryMs', options.syncEveryMs);
    this.sharedClock = options.clock ?? systemClock;
    this.callerTime = options.clock !== undefined;
    this.minRetriesPerWindow = Math.floor((this.minRetriesPerSecond * this.windowMs) / 1000);
  }

  override recordRequest(): void {
    this.pending.requests++;
    this.arm();
  }

  override tryRetry(): boolean {
    const fleet = this.fleetView();
    const requests = fleet.requests + this.pending.requests;
    const retries = fleet.retries + this.pending.retries;
    const allowed = Math.max(this.minRetriesPerWindow, this.ratio * requests);
    if (retries + 1 > allowed) {
      this.refusedShared++;
      if (this.events.has('exhausted'))
        this.events.emit('exhausted', { requests, retries, allowed });
      return false;
    }
    this.pending.retries++;
    this.arm();
    return true;
  }

  override stats(): RetryBudgetStats {
    const fleet = this.fleetView();
    const requests = fleet.requests + this.pending.requests;
    return {
      requests,
      retries: fleet.retries + this.pending.retries,
      allowed: Math.max(this.minRetriesPerWindow, this.ratio * requests),
      refused: this.refusedShared,
    };
  }

  override describe(): string {
    return `shared ${super.describe()} (Redis "${this.budgetName}", synced every ${this.syncEveryMs} ms)`;
  }

  /** Adds this process's counts to the fleet's now and reads the totals back. */
  flush(): Promise<void> {
    this.syncing ??= this.sync().finally(() => {
      this.syncing = undefined;
    });
    return this.syncing;
  }

  /** Stops the sync timer (pending counts are flushed first). */
  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.cancelSync?.();
    this.cancelSync = undefined;
    await this.flush();
  }

  /** The fleet's totals, forgotten once older than the window (they would only be stale). */
  private fleetView(): { requests: number; retries: number } {
    if (this.sharedClock.now() - this.fleet.at > this.windowMs) return { requests: 0, retries: 0 };
    return this.fleet;
  }

  private async sync(): Promise<void> {
    const sent = { ...this.pending };
    try {
      const reply = (await runScript(
        this.redis,
        BUDGET,
        [this.key],
        [
          'add',
          this.callerTime ? Math.floor(this.sharedClock.wallTime()) : '',
          this.windowMs,
          Math.ceil(this.windowMs / 10),
          this.ratio,
          this.minRetriesPerWindow,
          sent.requests,
          sent.retries,
        ],
      )) as [number, number, number];
      this.pending.requests -= sent.requests;
      this.pending.retries -= sent.retries;
      this.fleet = { requests: reply[1], retries: reply[2], at: this.sharedClock.now() };
    } catch (error) {
      if (this.sharedEvents.has('unreachable'))
        this.sharedEvents.emit('unreachable', {
          name: this.budgetName,
          error: toStoreErrorFor(this.redis, error),
        });
      // Keep deciding locally: this process's counts stay pending and go out with the next sync.
      this.fleet = { requests: 0, retries: 0, at: this.sharedClock.now() };
    }
  }

  private arm(): void {
    if (this.cancelSync !== undefined) return;
    this.cancelSync = this.sharedClock.schedule(
      this.syncEveryMs,
      () => {
        this.cancelSync = undefined;
        void this.flush().then(() => {
          if (this.pending.requests > 0 || this.pending.retries > 0) this.arm();
        });
      },
      { unref: true },
    );
  }
}
