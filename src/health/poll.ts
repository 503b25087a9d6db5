import { scoped } from '../validate/scoped.js';
import { classify } from '../faults/classify.js';
import type { Fault } from '../faults/fault.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { HealthMonitor, type HealthMode } from './health-monitor.js';

/** Every option error names the option from `poll`. */
const check = scoped('poll');

export interface PollCheckContext {
  /** Aborts when polling stops; pass it to fetch so a stop does not wait for a slow check. */
  readonly signal: AbortSignal;
  /** 1 for the first check. */
  readonly attempt: number;
}

export type PollCheck<T> = (context: PollCheckContext) => PromiseLike<T> | T;

/** What every poll result carries, whether the check passed or failed. */
export interface PollResultBase {
  readonly attempt: number;
  /** Monotonic time (Clock.now()) when the check finished. */
  readonly at: number;
  /** The monitor's mode after this check (always `healthy` without a monitor). */
  readonly mode: HealthMode;
  /** How long until the next check. */
  readonly nextDelayMs: number;
}

export type PollResult<T> =
  | (PollResultBase & { readonly ok: true; readonly value: T })
  | (PollResultBase & { readonly ok: false; readonly fault: Fault });

export interface PollOptions<T> {
  /**
   * Delay between checks when there is no monitor (with a monitor, the monitor decides).
   * @defaultValue required when there is no `monitor`
   */
  readonly intervalMs?: number;
  /**
   * Decides the delay (interval while healthy, backoff while failing) and records every outcome.
   * @defaultValue none: a fixed `intervalMs`
   */
  readonly monitor?: HealthMonitor;
  /**
   * Stops polling when it aborts.
   * @defaultValue none: polls until `stop()`
   */
  readonly signal?: AbortSignal;
  /**
   * Run the first check at once or after the first interval.
   * @defaultValue true
   */
  readonly immediate?: boolean;
  /**
   * Called after every check, success or failure.
   * @defaultValue none
   */
  readonly onResult?: (result: PollResult<T>) => void;
  /**
   * Keep the process alive while polling. Set it when the poll is the process's
   * job, as in a monitor that runs until it is stopped.
   * @defaultValue false: the wait is a background timer, so a service with other work exits
   * when that work is done
   */
  readonly keepAlive?: boolean;
  /**
   * The clock the waits run on.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

/**
 * A running poll. Results go to `onResult` and to every `for await` loop over the poller;
 * leaving a `for await` loop (break, return, throw) stops the poll.
 */
export interface Poller<T> extends AsyncIterable<PollResult<T>> {
  /** Stops polling: the pending wait is cancelled and a running check sees its signal abort. */
  stop(): void;
  /** Settles when the poll has stopped and left no timer behind. */
  readonly done: Promise<void>;
  readonly stopped: boolean;
}

/** Results a slow `for await` consumer may fall behind by; older ones are dropped. */
const MAX_BUFFERED = 100;
const OPTION_KEYS = [
  'intervalMs',
  'monitor',
  'signal',
  'immediate',
  'onResult',
  'keepAlive',
  'clock',
];

/**
 * Runs `check` on a schedule: every `intervalMs`, or, with a monitor, at the monitor's pace
 * (normal interval while healthy, backoff while failing). Starts at once; stops on abort or
 * `stop()`, leaving no timer behind.
 */
export function poll<T>(checkFn: PollCheck<T>, options: PollOptions<T>): Poller<T> {
  check.fn('check', checkFn);
  check.plainObject('options', options);
  check.knownKeys('poll', options, OPTION_KEYS);
  const monitor = options.monitor;
  if (monitor !== undefined && !(monitor instanceof HealthMonitor))
    throw check.configError('monitor', monitor, 'a HealthMonitor');
  if (monitor === undefined && options.intervalMs === undefined)
    throw check.configError('intervalMs', undefined, 'a finite number > 0 (or a monitor)');
  const intervalMs =
    options.intervalMs === undefined
      ? monitor!.intervalMs
      : check.positiveNumber('intervalMs', options.intervalMs);
  const onResult =
    options.onResult === undefined
      ? undefined
      : check.fn<(r: PollResult<T>) => void>('onResult', options.onResult);
  const signal = options.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw check.configError('signal', signal, 'an AbortSignal');
  const clock = options.clock ?? systemClock;
  const immediate = options.immediate ?? true;
  if (options.keepAlive !== undefined && typeof options.keepAlive !== 'boolean')
    throw check.configError('keepAlive', options.keepAlive, 'true or false');
  const keepAlive = options.keepAlive ?? false;

  const controller = new AbortController();
  const subscribers = new Set<Subscriber<T>>();
  const stop = () => {
    if (!controller.signal.aborted) controller.abort(new PollStoppedError());
  };
  const onOuterAbort = () => stop();
  if (signal?.aborted) stop();
  else signal?.addEventListener('abort', onOuterAbort, { once: true });

  const deliver = (result: PollResult<T>) => {
    if (onResult) {
      try {
        onResult(result);
      } catch (error) {
        // A broken callback must not end the poll silently nor be swallowed.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
    for (const subscriber of subscribers) subscriber.push(result);
  };

  const run = async (): Promise<void> => {
    let delayMs = immediate ? 0 : intervalMs;
    for (let attempt = 1; ; attempt++) {
      if (delayMs > 0) {
        try {
          await clock.sleep(delayMs, controller.signal, { unref: !keepAlive });
        } catch {
          return; // Stopped while waiting.
        }
      }
      if (controller.signal.aborted) return;
      let outcome: { ok: true; value: T } | { ok: false; error: unknown };
      try {
        outcome = { ok: true, value: await checkFn({ signal: controller.signal, attempt }) };
      } catch (error) {
        outcome = { ok: false, error };
      }
      // A check cut short by stop() is not an outcome of the dependency.
      if (controller.signal.aborted) return;
      const at = clock.now();
      if (outcome.ok) {
        delayMs = monitor ? monitor.recordSuccess() : intervalMs;
        deliver({
          ok: true,
          value: outcome.value,
          attempt,
          at,
          mode: monitor?.mode ?? 'healthy',
          nextDelayMs: delayMs,
        });
      } else {
        const fault = monitor ? monitor.recordFailure(outcome.error) : classify(outcome.error);
        // Without a monitor, a server's Retry-After still wins over a shorter interval.
        delayMs = monitor ? monitor.nextDelayMs() : Math.max(intervalMs, fault.retryAfterMs ?? 0);
        deliver({
          ok: false,
          fault,
          attempt,
          at,
          mode: monitor?.mode ?? 'healthy',
          nextDelayMs: delayMs,
        });
      }
    }
  };

  const done = run().finally(() => {
    signal?.removeEventListener('abort', onOuterAbort);
    stop();
    for (const subscriber of subscribers) subscriber.end();
    subscribers.clear();
  });

  return {
    stop,
    done,
    get stopped() {
      return controller.signal.aborted;
    },
    [Symbol.asyncIterator](): AsyncIterator<PollResult<T>> {
      const subscriber = new Subscriber<T>(() => {
        subscribers.delete(subscriber);
        stop();
      });
      if (controller.signal.aborted) subscriber.end();
      else subscribers.add(subscriber);
      return subscriber;
    },
  };
}

/** The reason a poll's signal aborts when it is stopped. */
export class PollStoppedError extends Error {
  constructor() {
    super('Polling stopped');
    this.name = 'AbortError';
  }
}

/** One `for await` consumer: a small queue of results and at most one waiting `next()`. */
class Subscriber<T> implements AsyncIterator<PollResult<T>> {
  private readonly buffer: PollResult<T>[] = [];
  private waiting: ((result: IteratorResult<PollResult<T>>) => void) | undefined;
  private ended = false;

  constructor(private readonly onReturn: () => void) {}

  push(result: PollResult<T>): void {
    if (this.ended) return;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ done: false, value: result });
      return;
    }
    this.buffer.push(result);
    if (this.buffer.length > MAX_BUFFERED) this.buffer.shift();
  }

  end(): void {
    this.ended = true;
    if (this.waiting) {
      const resolve = this.waiting;
      this.waiting = undefined;
      resolve({ done: true, value: undefined });
    }
  }

  next(): Promise<IteratorResult<PollResult<T>>> {
    const value = this.buffer.shift();
    if (value !== undefined) return Promise.resolve({ done: false, value });
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  return(): Promise<IteratorResult<PollResult<T>>> {
    this.buffer.length = 0;
    this.end();
    this.onReturn();
    return Promise.resolve({ done: true, value: undefined });
  }
}
