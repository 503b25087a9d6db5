import type { CancelTimer, Clock, TimerOptions } from '../time/clock.js';
import { sleepOn } from '../time/sleep.js';

interface PendingTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

export interface VirtualClockOptions {
  /**
   * Starting monotonic time.
   * @defaultValue 0
   */
  readonly start?: number;
  /**
   * Starting wall time in epoch ms.
   * @defaultValue 2020-01-01T00:00:00Z, so tests are reproducible
   */
  readonly wallStart?: number;
}

/**
 * A clock that only moves when a test moves it. Timers fire in time order, and between
 * timers the microtask queue is drained, so promise chains that schedule further timers
 * behave as they would on real time, only in microseconds.
 */
export class VirtualClock implements Clock {
  private current: number;
  private readonly wallOffset: number;
  private timers: PendingTimer[] = [];
  private nextId = 1;

  constructor(options: VirtualClockOptions = {}) {
    this.current = options.start ?? 0;
    this.wallOffset = (options.wallStart ?? Date.UTC(2020, 0, 1)) - this.current;
  }

  now(): number {
    return this.current;
  }

  wallTime(): number {
    return this.current + this.wallOffset;
  }

  /** How many timers are waiting to fire. A finished test should see 0. */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /** The time at which the next timer fires, if any. */
  get nextTimerAt(): number | undefined {
    return this.timers[0]?.at;
  }

  schedule(ms: number, callback: () => void, _options?: TimerOptions): CancelTimer {
    const timer: PendingTimer = {
      id: this.nextId++,
      at: this.current + (ms > 0 ? ms : 0),
      callback,
    }; // NaN or negative: now
    // Keep timers sorted by time, then by creation, so equal deadlines fire in FIFO order.
    let index = this.timers.length;
    while (index > 0 && this.timers[index - 1]!.at > timer.at) index--;
    this.timers.splice(index, 0, timer);
    return () => {
      const at = this.timers.indexOf(timer);
      if (at !== -1) this.timers.splice(at, 1);
    };
  }

  sleep(ms: number, signal?: AbortSignal, options?: TimerOptions): Promise<void> {
    return sleepOn(
      (delay, callback, opts) => this.schedule(delay, callback, opts),
      ms,
      signal,
      options,
    );
  }

  /** Moves time forward by `ms`, firing every timer due on the way, each at its own time. */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`advance(ms) needs a non-negative number, got ${ms}`);
    const target = this.current + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.timers[0];
      if (!next || next.at > target) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.at);
      next.callback();
      await flushMicrotasks();
    }
    this.current = target;
    await flushMicrotasks();
  }

  /**
   * Fires timers in order until none is left (or `maxTimers` have fired, to catch a loop
   * that never ends). Returns how many fired.
   */
  async runAll(maxTimers = 100_000): Promise<number> {
    let fired = 0;
    await flushMicrotasks();
    while (this.timers.length > 0) {
      if (fired >= maxTimers) {
        throw new Error(
          `VirtualClock.runAll: still ${this.timers.length} timer(s) after firing ${fired}; is something rescheduling forever?`,
        );
      }
      const next = this.timers.shift()!;
      this.current = Math.max(this.current, next.at);
      next.callback();
      fired++;
      await flushMicrotasks();
    }
    return fired;
  }

  /** Advances to the next timer and fires it (and any due at the same time). */
  async next(): Promise<boolean> {
    const next = this.timers[0];
    if (!next) return false;
    await this.advance(next.at - this.current);
    return true;
  }
}

/** Lets every queued promise continuation run, including ones queued by those continuations. */
async function flushMicrotasks(): Promise<void> {
  // A macrotask boundary drains the whole microtask queue, however deep the chain.
  await new Promise<void>((resolve) => setImmediate(resolve));
}
