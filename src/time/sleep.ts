import type { CancelTimer, TimerOptions } from './clock.js';

/**
 * An abortable sleep on any clock's `schedule`: resolves after `ms`, or rejects with the signal's
 * reason as soon as it aborts (and cancels the timer). The system clock and the virtual clock
 * both use this one, so the fake cannot drift from the real one.
 */
export function sleepOn(
  schedule: (ms: number, callback: () => void, options?: TimerOptions) => CancelTimer,
  ms: number,
  signal?: AbortSignal,
  options?: TimerOptions,
): Promise<void> {
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
