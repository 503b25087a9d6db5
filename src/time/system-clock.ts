import { performance } from 'node:perf_hooks';
import type { CancelTimer, Clock, TimerOptions } from './clock.js';

// setTimeout stores delays as a signed 32-bit number; longer waits are chained.
const MAX_TIMER_MS = 2_147_483_647;

function schedule(ms: number, callback: () => void, options?: TimerOptions): CancelTimer {
  let timer: NodeJS.Timeout | undefined;
  // NaN and negative delays mean "now", as they do for setTimeout.
  let remaining = ms > 0 ? ms : 0;
  const arm = () => {
    const step = Math.min(remaining, MAX_TIMER_MS);
    remaining -= step;
    timer = setTimeout(remaining > 0 ? arm : callback, step);
    if (options?.unref) timer.unref();
  };
  arm();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}

function sleep(ms: number, signal?: AbortSignal, options?: TimerOptions): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    let onAbort: (() => void) | undefined;
    const cancel = schedule(
      ms,
      () => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      options,
    );
    if (signal) {
      onAbort = () => {
        cancel();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    }
  });
}

/** The real clock: `performance.now()` for intervals, `Date.now()` for timestamps. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallTime: () => Date.now(),
  sleep,
  schedule,
};
