/**
 * Every timer in faultline goes through a Clock, so that tests can run on virtual time
 * and so that no timer is ever created behind the user's back.
 */
export interface TimerOptions {
  /**
   * Background timers (heartbeats, polls, sweeps) are unref'd so they never keep a
   * process alive. A user's pending retry wait is real work and keeps it alive.
   * @defaultValue false
   */
  readonly unref?: boolean;
}

/** Cancels a scheduled callback. Calling it twice, or after the callback ran, is harmless. */
export type CancelTimer = () => void;

export interface Clock {
  /** Monotonic milliseconds: never jumps backwards, meaningless across processes. */
  now(): number;
  /** Wall-clock milliseconds since the epoch, for timestamps that are stored or compared across processes. */
  wallTime(): number;
  /**
   * Resolves after `ms`. Rejects with `signal.reason` when the signal aborts (at once if it
   * already has). Leaves no timer and no abort listener behind in any outcome.
   */
  sleep(ms: number, signal?: AbortSignal, options?: TimerOptions): Promise<void>;
  /** Runs `callback` once after `ms`; returns a function that cancels it. */
  schedule(ms: number, callback: () => void, options?: TimerOptions): CancelTimer;
}
