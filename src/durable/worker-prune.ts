import type { Clock } from '../time/clock.js';

/**
 * Runs `prune` every `everyMs` (from the end of one prune to the start of the next, so a slow
 * one never overlaps the next) until the returned function is called. Unref'd: pruning alone
 * never keeps a process alive.
 */
export function schedulePrune(
  clock: Clock,
  everyMs: number,
  prune: () => Promise<unknown>,
  onError: (error: unknown) => void,
): () => void {
  if (everyMs === Number.POSITIVE_INFINITY) return () => {};
  let cancelTimer: () => void = () => {};
  let cancelled = false;
  const arm = () => {
    cancelTimer = clock.schedule(
      everyMs,
      () => {
        prune()
          .catch(onError)
          .finally(() => {
            if (!cancelled) arm();
          });
      },
      { unref: true },
    );
  };
  arm();
  return () => {
    cancelled = true;
    cancelTimer();
  };
}
