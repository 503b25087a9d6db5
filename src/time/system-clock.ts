import { performance } from 'node:perf_hooks';
import type { CancelTimer, Clock, TimerOptions } from './clock.js';
import { sleepOn } from './sleep.js';

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

/** The real clock: `performance.now()` for intervals, `Date.now()` for timestamps. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallTime: () => Date.now(),
  sleep: (ms, signal, options) => sleepOn(schedule, ms, signal, options),
  schedule,
};
