import type { CancelTimer, Clock } from './clock.js';
import { systemClock } from './system-clock.js';

/**
 * The clock's time, read at most once per `resolutionMs` on a hot path.
 *
 * Reading the system clock can cost more on virtual machines than everything else a
 * rate limiter or throttle does per call. With a resolution > 0, the first read starts an
 * unref'd tick that refreshes a cached reading every `resolutionMs`; calls in between use
 * the cache. The tick stops after a period nobody read, so an idle policy holds no timer.
 *
 * The cached reading is never ahead of the clock, only behind: by up to `resolutionMs`, or
 * longer while the event loop is busy and the tick cannot run. Policies that use it must
 * therefore be safe with a time in the past (a token bucket then refills less, never more).
 * `exact()` reads the clock and refreshes the cache, for paths that need the true time.
 */
export class CoarseNow {
  private cached = 0;
  private cancelTick: CancelTimer | undefined;
  private readSinceTick = false;
  private readonly onTick = (): void => this.tick();

  constructor(
    private readonly clock: Clock,
    readonly resolutionMs: number,
  ) {}

  /**
   * The resolution a policy should use by default: `preferredMs` on the system clock (costly to
   * read), 0 (exact) on any other clock, where reads are cheap and tests expect exact times.
   */
  static defaultResolution(clock: Clock, preferredMs: number): number {
    return clock === systemClock ? preferredMs : 0;
  }

  now(): number {
    if (this.cancelTick !== undefined) {
      this.readSinceTick = true;
      return this.cached;
    }
    if (this.resolutionMs <= 0) return this.clock.now();
    this.cached = this.clock.now();
    this.readSinceTick = false;
    this.cancelTick = this.clock.schedule(this.resolutionMs, this.onTick, { unref: true });
    return this.cached;
  }

  /** The true time; also refreshes the cached reading. */
  exact(): number {
    const now = this.clock.now();
    if (now > this.cached) this.cached = now;
    return now;
  }

  /** Stops the tick (the next `now()` reads the clock again). */
  stop(): void {
    this.cancelTick?.();
    this.cancelTick = undefined;
  }

  private tick(): void {
    if (!this.readSinceTick) {
      this.cancelTick = undefined;
      return;
    }
    this.readSinceTick = false;
    this.cached = this.clock.now();
    this.cancelTick = this.clock.schedule(this.resolutionMs, this.onTick, { unref: true });
  }
}
