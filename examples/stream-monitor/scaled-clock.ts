import { performance } from 'node:perf_hooks';
import type { CancelTimer, Clock, TimerOptions } from '../../src/time/clock.js';
import { systemClock } from '../../src/time/system-clock.js';

/**
 * A real clock that runs `speed` times faster: a 300 s backoff takes 3 s at speed 100. For
 * demos, so a person can watch a schedule measured in minutes; and for tests with real I/O
 * where a virtual clock cannot be driven from outside. `onWait` sees every `sleep` requested
 * (the waits of retries and polls, not deadlines set with `schedule`) in pretend milliseconds.
 */
export function scaledClock(speed: number, onWait?: (ms: number) => void): Clock {
  if (!(speed > 0) || !Number.isFinite(speed))
    throw new RangeError(`speed must be a finite number > 0, got ${speed}`);
  const realStart = performance.now();
  const wallStart = Date.now();
  const now = () => realStart + (performance.now() - realStart) * speed;
  return {
    now,
    wallTime: () => wallStart + (Date.now() - wallStart) * speed,
    async sleep(ms: number, signal?: AbortSignal, options?: TimerOptions): Promise<void> {
      onWait?.(ms);
      const target = now() + ms;
      await systemClock.sleep(ms / speed, signal, options);
      // Real timers may fire a fraction of a millisecond early, which is many pretend ones: top up.
      for (let left = target - now(); left > 0; left = target - now())
        await systemClock.sleep(left / speed, signal, options);
    },
    schedule(ms: number, callback: () => void, options?: TimerOptions): CancelTimer {
      return systemClock.schedule(ms / speed, callback, options);
    },
  };
}
