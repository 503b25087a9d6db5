import type { Backoff } from '../recovery/backoff.js';
import type { RandomSource } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import type { TriggerStrategy } from './breaker-trigger.js';

/**
 * The circuit breaker's state machine, apart from running calls: which calls may pass, what an
 * outcome does, and when an open circuit may probe. It keeps no timer: "open → half-open" is
 * decided from `clock.now()` when the next call arrives.
 *
 * Seam for a shared (e.g. Redis) breaker: it decides locally through `admit`/`succeeded`/
 * `failed`, observes every transition by overriding `transitioned` (or listening to
 * `stateChange`), and applies a decision taken elsewhere with `forceOpen(durationMs)` /
 * `reset()`.
 */
export type CircuitState = 'closed' | 'open' | 'halfOpen' | 'isolated';

/** Returned by `admit` when the call must not run. */
export const REJECTED = -1;

export interface BreakerTiming {
  readonly clock: Clock;
  /** How long the circuit stays open: fixed ms, or a backoff over the number of opens in a row. */
  readonly halfOpenAfter: number | Backoff;
  /** Probes allowed at the same time in half-open. */
  readonly maxProbes: number;
  /** Successful probes needed to close. */
  readonly probesToClose: number;
  readonly random: RandomSource;
}

export abstract class BreakerStateMachine {
  protected currentState: CircuitState = 'closed';
  /** Monotonic time (clock.now) when an open circuit may probe. */
  protected openUntil = 0;
  /** How long the current (or last) open period is. */
  protected openMs = 0;
  /** Opens in a row without a successful close: drives the half-open backoff. */
  protected opens = 0;
  protected probesInFlight = 0;
  protected probeSuccesses = 0;
  /**
   * Bumped on every transition. A call remembers the epoch it was admitted in; an outcome from
   * an older epoch (a slow call that finishes after the circuit opened) is not counted.
   */
  protected epoch = 0;

  constructor(
    protected readonly timing: BreakerTiming,
    protected readonly trigger: TriggerStrategy,
  ) {}

  /** Called after every change of state, with the operation of the call that caused it (if any). */
  protected abstract transitioned(
    from: CircuitState,
    to: CircuitState,
    reason: string,
    operation: unknown,
  ): void;

  /** The state as a caller would find it now (an open circuit whose time is up reads as half-open). */
  get state(): CircuitState {
    if (this.currentState === 'open' && this.timing.clock.now() >= this.openUntil)
      return 'halfOpen';
    return this.currentState;
  }

  /** Milliseconds until an open circuit lets a probe through (0 when not open). */
  remainingOpenMs(now = this.timing.clock.now()): number {
    return this.currentState === 'open' ? Math.max(0, this.openUntil - now) : 0;
  }

  /** Lets a call through (returns the epoch to report its outcome with) or returns REJECTED. */
  protected admit(now: number, operation: unknown): number {
    switch (this.currentState) {
      case 'closed':
        return this.epoch;
      case 'open':
        if (now < this.openUntil) return REJECTED;
        this.moveTo('halfOpen', `open for ${Math.round(this.openMs)} ms`, operation);
        break;
      case 'isolated':
        return REJECTED;
    }
    // halfOpen
    if (this.probesInFlight >= this.timing.maxProbes) return REJECTED;
    this.probesInFlight++;
    return this.epoch;
  }

  /**
   * A call admitted in `epoch` succeeded. `slow` counts against the slow-call rate; `now` is
   * only read by time windows (the caller passes 0 when none needs it).
   */
  protected succeeded(epoch: number, slow: boolean, now: number, operation: unknown): void {
    if (epoch !== this.epoch) return;
    if (this.currentState === 'closed') {
      const reason = this.trigger.record(false, slow, now);
      if (reason !== undefined) this.open(reason, operation);
    } else if (this.currentState === 'halfOpen') {
      this.probesInFlight--;
      if (++this.probeSuccesses >= this.timing.probesToClose) {
        this.opens = 0;
        this.moveTo('closed', 'probe succeeded', operation);
      }
    }
  }

  /** A call admitted in `epoch` failed; `counted` says whether this fault counts against the circuit. */
  protected failed(
    epoch: number,
    counted: boolean,
    slow: boolean,
    now: number,
    operation: unknown,
  ): void {
    if (epoch !== this.epoch) return;
    if (this.currentState === 'closed') {
      if (!counted && !slow) return;
      const reason = this.trigger.record(counted, slow, now);
      if (reason !== undefined) this.open(reason, operation);
    } else if (this.currentState === 'halfOpen') {
      this.probesInFlight--;
      if (counted) this.open('probe failed', operation);
    }
  }

  /**
   * Opens for the next duration of the half-open schedule. Reads the clock itself: the hot path
   * of a closed consecutive breaker never does, and opening is rare.
   */
  protected open(reason: string, operation: unknown): void {
    this.opens++;
    const after = this.timing.halfOpenAfter;
    const ms =
      typeof after === 'number' ? after : after.delay(this.opens, this.openMs, this.timing.random);
    this.openFor(ms, this.timing.clock.now(), reason, operation);
  }

  private openFor(ms: number, now: number, reason: string, operation: unknown): void {
    this.openMs = ms;
    this.openUntil = now + ms;
    this.moveTo('open', reason, operation);
  }

  /**
   * Opens the circuit for `durationMs` from now, whatever its state: applies a decision taken
   * elsewhere (a shared breaker, an operator). An isolated circuit stays isolated.
   */
  forceOpen(durationMs: number, reason = 'forced open'): void {
    if (this.currentState === 'isolated') return;
    this.openFor(Math.max(0, durationMs), this.timing.clock.now(), reason, undefined);
  }

  /** Holds the circuit open until `reset()`: every call is refused with `isolated: true`. */
  isolate(reason = 'isolated'): void {
    this.moveTo('isolated', reason, undefined);
  }

  /** Closes the circuit and forgets its history (failure counts, backoff). */
  reset(reason = 'reset'): void {
    this.opens = 0;
    this.moveTo('closed', reason, undefined);
  }

  /** Sets the state (every transition passes here) and tells the subclass. */
  protected moveTo(to: CircuitState, reason: string, operation: unknown): void {
    const from = this.currentState;
    this.currentState = to;
    this.epoch++;
    this.probesInFlight = 0;
    this.probeSuccesses = 0;
    // Windows restart on every transition: a closed circuit judges only calls made since it closed.
    this.trigger.reset();
    if (from !== to) this.transitioned(from, to, reason, operation);
  }
}
