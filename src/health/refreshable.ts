import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import type { Fault } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';

/** Every option error names the option from `refreshable`. */
const check = scoped('refreshable');

export interface RefreshableLoadContext<T> {
  /** The value being replaced (stale or about to expire), if any. */
  readonly previous: T | undefined;
  /** Why this load runs. */
  readonly reason: LoadReason;
}

export type LoadReason = 'initial' | 'expired' | 'ahead' | 'invalidated';
export type RefreshableLoad<T> = (context: RefreshableLoadContext<T>) => PromiseLike<T> | T;

export interface RefreshableOptions<T> {
  /**
   * How long a loaded value stays fresh. Exactly one of `ttlMs` and `expiresAt` is required.
   * @defaultValue none: one of `ttlMs` and `expiresAt` is required
   */
  readonly ttlMs?: number;
  /**
   * When a loaded value expires, in wall-clock epoch ms (e.g. the expiry of a signed URL).
   * @defaultValue none: one of `ttlMs` and `expiresAt` is required
   */
  readonly expiresAt?: (value: T) => number;
  /**
   * Start a background refresh on `get()` when the value expires within this many ms.
   * @defaultValue 0: off
   */
  readonly refreshAheadMs?: number;
  /**
   * After expiry, keep serving the old value for this long when a refresh fails.
   * @defaultValue 0: off
   */
  readonly staleIfErrorMs?: number;
  /**
   * After a failed refresh, serve the stale value without trying again for this long, so an
   * outage of the source is not hammered by every caller in turn.
   * @defaultValue 0: try on every get
   */
  readonly failureCooldownMs?: number;
  /**
   * Turns load errors into faults.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * Freshness, expiry and refresh timers.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

export interface LoadedEvent {
  readonly reason: LoadReason;
  readonly durationMs: number;
  /** Monotonic time (Clock.now()) at which the new value expires. */
  readonly expiresAt: number;
}

export interface RefreshFailedEvent {
  readonly reason: LoadReason;
  readonly fault: Fault;
  /** True when callers keep getting the old value (ahead of expiry, or within `staleIfErrorMs`). */
  readonly servingStale: boolean;
}

export interface StaleServedEvent {
  readonly fault: Fault;
  /** How long the served value has been stale. */
  readonly staleForMs: number;
}

export interface RefreshableEvents {
  loaded: LoadedEvent;
  refreshFailed: RefreshFailedEvent;
  stale: StaleServedEvent;
}

export interface RefreshableStats {
  readonly loads: number;
  readonly loadFailures: number;
  /** `get()` calls answered from the current value without waiting. */
  readonly hits: number;
  /** `get()` calls answered with a stale value after a failed refresh. */
  readonly staleServed: number;
  readonly hasValue: boolean;
  readonly lastFault: Fault | undefined;
}

interface Entry<T> {
  readonly value: T;
  /** Monotonic time at which it stops being fresh (moved to now by `invalidate()`). */
  expiresAt: number;
  invalidated: boolean;
}

const OPTION_KEYS = [
  'ttlMs',
  'expiresAt',
  'refreshAheadMs',
  'staleIfErrorMs',
  'failureCooldownMs',
  'classify',
  'clock',
];

/** Options shared with the keyed variant, validated once. */
export interface ValidRefreshableOptions<T> {
  readonly ttlMs: number | undefined;
  readonly expiresAt: ((value: T) => number) | undefined;
  readonly refreshAheadMs: number;
  readonly staleIfErrorMs: number;
  readonly failureCooldownMs: number;
  readonly classify: ClassifyFunction;
  readonly clock: Clock;
}

function validateRefreshableOptions<T>(
  options: RefreshableOptions<T>,
  extraKeys: readonly string[] = [],
): ValidRefreshableOptions<T> {
  check.plainObject('options', options);
  check.knownKeys('refreshable', options, [...OPTION_KEYS, ...extraKeys]);
  if ((options.ttlMs === undefined) === (options.expiresAt === undefined)) {
    throw check.configError('ttlMs', options.ttlMs, 'exactly one of ttlMs and expiresAt');
  }
  return {
    ttlMs: options.ttlMs === undefined ? undefined : check.positiveNumber('ttlMs', options.ttlMs),
    expiresAt:
      options.expiresAt === undefined
        ? undefined
        : check.fn<(value: T) => number>('expiresAt', options.expiresAt),
    refreshAheadMs: check.nonNegativeNumber('refreshAheadMs', options.refreshAheadMs ?? 0),
    staleIfErrorMs: check.limit('staleIfErrorMs', options.staleIfErrorMs ?? 0),
    failureCooldownMs: check.nonNegativeNumber('failureCooldownMs', options.failureCooldownMs ?? 0),
    classify:
      options.classify === undefined ? defaultClassify : check.fn('classify', options.classify),
    clock: options.clock ?? systemClock,
  };
}

/**
 * A value that expires (a signed URL, an access token): loaded once for all concurrent callers,
 * refreshed ahead of expiry, served stale for a while when the refresh fails. No timer runs in
 * the background: refreshes happen on `get()`, so an idle refreshable costs nothing.
 */
export class Refreshable<T> {
  readonly events = new Events<RefreshableEvents>();
  private readonly options: ValidRefreshableOptions<T>;
  private entry: Entry<T> | undefined;
  private inflight: Promise<T> | undefined;
  private loads = 0;
  private loadFailures = 0;
  private hits = 0;
  private staleServed = 0;
  private lastFault: Fault | undefined;
  /** Monotonic time before which no new load starts after a failure (while stale is served). */
  private coolUntil = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly load: RefreshableLoad<T>,
    options: RefreshableOptions<T> | ValidRefreshableOptions<T>,
  ) {
    check.fn('load', load);
    this.options = isValid(options) ? options : validateRefreshableOptions(options);
  }

  /**
   * A fresh value: the current one if it has not expired (starting a background refresh when it
   * is about to), else the result of one shared load. When that load fails, the old value if it
   * expired less than `staleIfErrorMs` ago; otherwise the load's error.
   */
  get(): Promise<T> {
    const entry = this.entry;
    const now = this.options.clock.now();
    if (entry !== undefined && now < entry.expiresAt) {
      this.hits++;
      if (
        this.inflight === undefined &&
        now >= entry.expiresAt - this.options.refreshAheadMs &&
        now >= this.coolUntil
      ) {
        // Refresh ahead: callers keep the current value; a failure is reported, not thrown.
        this.startLoad('ahead').catch(() => {});
      }
      return Promise.resolve(entry.value);
    }
    if (this.inflight !== undefined) return this.inflight;
    if (
      entry !== undefined &&
      now < this.coolUntil &&
      now < entry.expiresAt + this.options.staleIfErrorMs
    ) {
      // Cooling down after a failed refresh: the stale value, without asking the source again yet.
      this.staleServed++;
      return Promise.resolve(entry.value);
    }
    return this.startLoad(
      entry === undefined ? 'initial' : entry.invalidated ? 'invalidated' : 'expired',
    );
  }

  /** The current value without loading, fresh or not (undefined before the first load). */
  peek(): T | undefined {
    return this.entry?.value;
  }

  /**
   * Marks the value expired so the next `get()` loads (e.g. the upstream answered 403 for an
   * expired URL). The old value stays available as the stale fallback if that load fails.
   */
  invalidate(): void {
    if (this.entry !== undefined) {
      const now = this.options.clock.now();
      if (this.entry.expiresAt > now) {
        this.entry.expiresAt = now;
        this.entry.invalidated = true;
      }
    }
  }

  /** Forgets the value entirely: no stale fallback. */
  clear(): void {
    this.entry = undefined;
  }

  stats(): RefreshableStats {
    return {
      loads: this.loads,
      loadFailures: this.loadFailures,
      hits: this.hits,
      staleServed: this.staleServed,
      hasValue: this.entry !== undefined,
      lastFault: this.lastFault,
    };
  }

  private startLoad(reason: LoadReason): Promise<T> {
    const clock = this.options.clock;
    const started = clock.now();
    const previous = this.entry?.value;
    this.loads++;
    let settled = false;
    const promise = (async () => {
      try {
        const value = await this.load({ previous, reason });
        const expiresAt = this.expiryOf(value);
        this.entry = { value, expiresAt, invalidated: false };
        this.coolUntil = Number.NEGATIVE_INFINITY;
        if (this.events.has('loaded'))
          this.events.emit('loaded', { reason, durationMs: clock.now() - started, expiresAt });
        return value;
      } catch (error) {
        this.loadFailures++;
        const fault = this.options.classify(error);
        this.lastFault = fault;
        const stale = this.usableStale();
        if (this.events.has('refreshFailed'))
          this.events.emit('refreshFailed', { reason, fault, servingStale: stale !== undefined });
        if (stale === undefined) throw error;
        this.coolUntil = clock.now() + this.options.failureCooldownMs;
        if (reason !== 'ahead') {
          this.staleServed++;
          if (this.events.has('stale'))
            this.events.emit('stale', { fault, staleForMs: clock.now() - stale.expiresAt });
        }
        return stale.value;
      } finally {
        settled = true;
        this.inflight = undefined;
      }
    })();
    // A load that throws synchronously has settled already: it must not stay in flight.
    if (!settled) this.inflight = promise;
    return promise;
  }

  /** The old value when it is still fresh (a refresh ahead failed) or stale for less than `staleIfErrorMs`. */
  private usableStale(): Entry<T> | undefined {
    const entry = this.entry;
    if (entry === undefined) return undefined;
    return this.options.clock.now() < entry.expiresAt + this.options.staleIfErrorMs
      ? entry
      : undefined;
  }

  private expiryOf(value: T): number {
    const { clock, ttlMs, expiresAt } = this.options;
    if (ttlMs !== undefined) return clock.now() + ttlMs;
    const wall = expiresAt!(value);
    if (typeof wall !== 'number' || Number.isNaN(wall)) {
      throw check.configError('expiresAt(value)', wall, 'a wall-clock time in epoch ms');
    }
    // Wall-clock expiry converted to the monotonic clock, so a clock step does not break it.
    return clock.now() + (wall - clock.wallTime());
  }
}

function isValid<T>(
  options: RefreshableOptions<T> | ValidRefreshableOptions<T>,
): options is ValidRefreshableOptions<T> {
  return validated.has(options as object);
}

const validated = new WeakSet<object>();

/** Validates options once for many refreshables (the keyed variant). */
export function sharedRefreshableOptions<T>(
  options: RefreshableOptions<T>,
  extraKeys: readonly string[] = [],
): ValidRefreshableOptions<T> {
  const valid = validateRefreshableOptions(options, extraKeys);
  validated.add(valid);
  return valid;
}

/** Creates a Refreshable (see the class). */
export function refreshable<T>(
  load: RefreshableLoad<T>,
  options: RefreshableOptions<T>,
): Refreshable<T> {
  return new Refreshable(load, options);
}
