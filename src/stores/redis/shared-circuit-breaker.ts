import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { scoped } from '../../validate/scoped.js';
import { BrokenCircuitError } from '../../faults/errors.js';
import { Events } from '../../observe/events.js';
import type { CircuitState } from '../../policies/breaker-state.js';
import {
  CircuitBreaker,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
} from '../../policies/circuit-breaker.js';
import type { ExecuteOptions, Operation, Policy } from '../../policies/policy.js';
import type { CancelTimer, Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import { objectTag } from './keys.js';
import { defineScript, runScript } from './script.js';
import breakerClose from './scripts/breaker-close.lua.js';
import breakerOpen from './scripts/breaker-open.lua.js';
import breakerProbe from './scripts/breaker-probe.lua.js';
import { enterCall, isRefused } from '../../policies/call-entry.js';
import { toStoreErrorFor } from './redis-errors.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

/** Every option error names the option from `redisCircuitBreaker`. */
const check = scoped('redisCircuitBreaker');

const OPEN = defineScript('breaker-open', breakerOpen);
const CLOSE = defineScript('breaker-close', breakerClose);
const PROBE = defineScript('breaker-probe', breakerProbe);

export interface RedisCircuitBreakerOptions {
  /** An ioredis client for commands; faultline never closes it. */
  readonly redis: Redis;
  /**
   * A client in subscriber mode for the open/close messages.
   * @defaultValue `redis.duplicate()`, closed by `close()`
   */
  readonly subscriber?: Redis;
  /** Every process with the same prefix and name shares this circuit. */
  readonly name: string;
  /**
   * Prefix of the breaker's key and channel.
   * @defaultValue 'faultline'
   */
  readonly prefix?: string;
  /**
   * The local breaker that detects failures (trigger, halfOpenAfter, ignored categories, clock
   * ...).
   * @defaultValue a `CircuitBreaker` with its own defaults
   */
  readonly breaker?: CircuitBreakerOptions;
  /**
   * When Redis cannot be reached: `local` (default) — this process goes on with its local
   * breaker alone; `reject` — fail closed: refuse every call with BrokenCircuitError until Redis is
   * back.
   * @defaultValue 'local'
   */
  readonly whenUnreachable?: 'local' | 'reject';
  /**
   * The half-open probe lock expires after this long, should its holder die.
   * @defaultValue 10 000 ms
   */
  readonly probeLockMs?: number;
  /**
   * Re-reads the shared state this often, in case a message was missed.
   * @defaultValue 5 000 ms; Infinity: never
   */
  readonly syncEveryMs?: number;
}

export interface RedisCircuitBreakerEvents {
  /** The local state changed; `remote` when another process's decision caused it. */
  stateChange: {
    readonly breaker: string;
    readonly from: CircuitState;
    readonly to: CircuitState;
    readonly reason: string;
    readonly remote: boolean;
  };
  /** A call was refused because another process holds the half-open probe or the shared state is open. */
  probeRefused: { readonly breaker: string };
  /** Redis failed; what happened is per `whenUnreachable`. */
  unreachable: {
    readonly breaker: string;
    readonly error: unknown;
    readonly during: 'open' | 'close' | 'probe' | 'sync';
  };
}

interface BreakerMessage {
  readonly type: 'open' | 'closed';
  readonly untilMs?: number;
  readonly by: string;
}

const OPTION_KEYS = [
  'redis',
  'subscriber',
  'name',
  'prefix',
  'breaker',
  'whenUnreachable',
  'probeLockMs',
  'syncEveryMs',
];

/**
 * A circuit breaker shared by every process through Redis. Failures are detected locally (a
 * normal CircuitBreaker); the decision to open, with its open-until time, is written to Redis
 * and published, so every process opens at once; when the time is up exactly one process at a
 * time holds the half-open probe (a lock with SET NX PX semantics); its success closes the
 * circuit everywhere, its failure reopens it everywhere.
 */
export class RedisCircuitBreaker implements Policy<RedisCircuitBreakerEvents> {
  readonly kind = 'circuitBreaker';
  readonly events = new Events<RedisCircuitBreakerEvents>();
  /** The local breaker this one drives. */
  readonly local: CircuitBreaker;
  /** Identifies this process in the shared state and in the probe lock. */
  readonly instanceId = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly ownsSubscriber: boolean;
  private readonly name: string;
  private readonly stateKey: string;
  private readonly probeKey: string;
  private readonly channel: string;
  private readonly whenUnreachable: 'local' | 'reject';
  private readonly probeLockMs: number;
  private readonly syncEveryMs: number;
  private readonly clock: Clock;
  private applyingRemote = false;
  private refusals = 0;
  private cancelSync: CancelTimer | undefined;
  private readyPromise: Promise<void> | undefined;
  private closed = false;

  constructor(options: RedisCircuitBreakerOptions) {
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
    this.whenUnreachable =
      options.whenUnreachable === undefined
        ? 'local'
        : check.oneOf('whenUnreachable', options.whenUnreachable, ['local', 'reject']);
    this.probeLockMs =
      options.probeLockMs === undefined
        ? 10_000
        : check.positiveInteger('probeLockMs', options.probeLockMs);
    this.syncEveryMs =
      options.syncEveryMs === undefined ? 5_000 : check.limit('syncEveryMs', options.syncEveryMs);
    this.local = new CircuitBreaker({
      ...options.breaker,
      name: options.breaker?.name ?? options.name,
    });
    this.clock = options.breaker?.clock ?? systemClock;
    this.redis = options.redis;
    this.ownsSubscriber = options.subscriber === undefined;
    this.subscriber = options.subscriber ?? options.redis.duplicate();
    if (this.ownsSubscriber) this.subscriber.on('error', () => {});
    this.name = options.name;
    const tag = objectTag(options.prefix ?? 'faultline', 'cb', options.name);
    this.stateKey = `${tag}:state`;
    this.probeKey = `${tag}:probe`;
    this.channel = `${tag}:events`;
    this.local.events.on('stateChange', (change) =>
      this.onLocalChange(change.from, change.to, change.reason, change.openForMs),
    );
    this.subscriber.on('message', (channel: string, text: string) => {
      if (channel === this.channel) this.onMessage(text);
    });
    // After a reconnect, messages sent meanwhile are lost: read the state again.
    this.subscriber.on('ready', () => void this.sync());
  }

  /**
   * Subscribes and reads the shared state. `execute` calls it on first use; await it to be sure
   * this process hears other processes' decisions from now on.
   */
  ready(): Promise<void> {
    this.readyPromise ??= (async () => {
      await this.subscriber.subscribe(this.channel);
      await this.sync();
      this.armSync();
    })();
    return this.readyPromise;
  }

  /** The local view: `open` as soon as any process opened the shared circuit. */
  get state(): CircuitState {
    return this.local.state;
  }

  async execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const entry = enterCall(fn, options);
    if (isRefused(entry)) throw entry.reason;
    if (this.readyPromise === undefined)
      void this.ready().catch((error) => this.unreachable(error, 'sync'));
    if (this.whenUnreachable === 'reject' && this.redis.status !== 'ready') {
      this.refusals++;
      throw new BrokenCircuitError(
        `The shared circuit breaker "${this.name}" cannot reach Redis and fails closed: the call was not made`,
      );
    }
    if (this.local.state !== 'halfOpen') return this.local.execute(fn, options);
    // Half-open here: only the process holding the shared probe lock may probe.
    let holds: boolean;
    try {
      holds = await this.acquireProbe();
    } catch (error) {
      this.unreachable(error, 'probe');
      if (this.whenUnreachable === 'reject')
        throw new BrokenCircuitError(
          `The shared circuit breaker "${this.name}" cannot reach Redis: the call was not made`,
          { cause: toStoreErrorFor(this.redis, error) },
        );
      return this.local.execute(fn, options);
    }
    if (!holds) {
      this.refusals++;
      if (this.events.has('probeRefused')) this.events.emit('probeRefused', { breaker: this.name });
      throw new BrokenCircuitError(
        `The circuit breaker "${this.name}" is half-open and another process holds the probe: the call was not made`,
      );
    }
    try {
      return await this.local.execute(fn, options);
    } finally {
      this.releaseProbe();
    }
  }

  stats(): CircuitBreakerStats {
    const stats = this.local.stats();
    return { ...stats, rejections: stats.rejections + this.refusals };
  }

  describe(): string {
    return `shared ${this.local.describe()} (Redis, when unreachable: ${this.whenUnreachable})`;
  }

  /** Unsubscribes and stops the sync timer; closes the subscriber if this breaker made it. */
  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.cancelSync?.();
    if (this.ownsSubscriber) this.subscriber.disconnect();
    else await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
  }

  /** Reads the shared state and applies it locally. */
  async sync(): Promise<void> {
    let openUntil: number;
    try {
      openUntil = Number((await this.redis.hget(this.stateKey, 'openUntil')) ?? 0);
    } catch (error) {
      this.unreachable(error, 'sync');
      return;
    }
    const left = openUntil - this.clock.wallTime();
    if (
      left > 0 &&
      this.local.state !== 'isolated' &&
      !(this.local.state === 'open' && this.local.remainingOpenMs() >= left - 1)
    ) {
      this.applyRemote(() => this.local.forceOpen(left, 'opened by another process'));
    }
  }

  private onLocalChange(
    from: CircuitState,
    to: CircuitState,
    reason: string,
    openForMs: number | undefined,
  ): void {
    if (this.events.has('stateChange'))
      this.events.emit('stateChange', {
        breaker: this.name,
        from,
        to,
        reason,
        remote: this.applyingRemote,
      });
    if (this.applyingRemote || this.closed) return;
    if (to === 'open') {
      const until = Math.round(this.clock.wallTime() + (openForMs ?? this.local.remainingOpenMs()));
      runScript(
        this.redis,
        OPEN,
        [this.stateKey],
        [until, this.instanceId, this.channel, reason],
      ).catch((error) => this.unreachable(error, 'open'));
    } else if (to === 'closed' && from === 'halfOpen') {
      runScript(
        this.redis,
        CLOSE,
        [this.stateKey, this.probeKey],
        [this.instanceId, this.channel],
      ).catch((error) => this.unreachable(error, 'close'));
    }
  }

  private onMessage(text: string): void {
    let message: BreakerMessage;
    try {
      message = JSON.parse(text) as BreakerMessage;
    } catch {
      return;
    }
    if (message.by === this.instanceId || this.local.state === 'isolated') return;
    if (message.type === 'open' && typeof message.untilMs === 'number') {
      const left = message.untilMs - this.clock.wallTime();
      if (left > 0)
        this.applyRemote(() => this.local.forceOpen(left, `opened by process ${message.by}`));
    } else if (message.type === 'closed' && this.local.state !== 'closed') {
      this.applyRemote(() => this.local.reset(`closed by process ${message.by}`));
    }
  }

  private applyRemote(change: () => void): void {
    this.applyingRemote = true;
    try {
      change();
    } finally {
      this.applyingRemote = false;
    }
  }

  private async acquireProbe(): Promise<boolean> {
    const reply = (await runScript(
      this.redis,
      PROBE,
      [this.stateKey, this.probeKey],
      ['acquire', this.instanceId, Math.round(this.clock.wallTime()), this.probeLockMs],
    )) as [number, string?];
    if (reply[0] === 1) return true;
    // The shared circuit is still open (a probe elsewhere just failed): open here too.
    const openUntil = reply[1] ? Number(reply[1]) : 0;
    const left = openUntil - this.clock.wallTime();
    if (left > 0)
      this.applyRemote(() => this.local.forceOpen(left, 'still open for another process'));
    return false;
  }

  private releaseProbe(): void {
    runScript(
      this.redis,
      PROBE,
      [this.stateKey, this.probeKey],
      ['release', this.instanceId, 0, 0],
    ).catch((error) => this.unreachable(error, 'probe'));
  }

  private unreachable(
    error: unknown,
    during: RedisCircuitBreakerEvents['unreachable']['during'],
  ): void {
    if (this.events.has('unreachable'))
      this.events.emit('unreachable', {
        breaker: this.name,
        error: toStoreErrorFor(this.redis, error),
        during,
      });
  }

  private armSync(): void {
    if (!Number.isFinite(this.syncEveryMs) || this.closed) return;
    this.cancelSync = this.clock.schedule(
      this.syncEveryMs,
      () => {
        void this.sync().finally(() => this.armSync());
      },
      { unref: true },
    );
  }
}
