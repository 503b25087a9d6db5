import type { CancelTimer, Clock } from '../time/clock.js';

/**
 * Where a worker's loop waits: for a timeout, or until something wakes it (a slot freed, a
 * local enqueue, stop). A wake with nobody waiting is remembered, so none is missed between
 * a check and the wait that follows it.
 */
export class Wakeup {
  private waiter: { resolve: () => void; cancel: CancelTimer | undefined } | undefined;
  private pending = false;
  private closed = false;

  constructor(
    private readonly clock: Clock,
    private readonly unref: boolean,
  ) {}

  wait(ms: number): Promise<void> {
    if (this.pending || this.closed) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiter = { resolve, cancel: undefined as CancelTimer | undefined };
      this.waiter = waiter;
      if (ms !== Number.POSITIVE_INFINITY)
        waiter.cancel = this.clock.schedule(ms, () => this.release(waiter), { unref: this.unref });
    });
  }

  wake(): void {
    if (this.waiter) this.release(this.waiter);
    else this.pending = true;
  }

  /** Wakes the waiter and makes every later wait return at once. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private release(waiter: { resolve: () => void; cancel: CancelTimer | undefined }): void {
    if (this.waiter !== waiter) return;
    this.waiter = undefined;
    waiter.cancel?.();
    waiter.resolve();
  }
}

/** pollMs after the first failed claim in a row, doubling up to the larger of pollMs and 2 s. */
export function storeBackoffMs(pollMs: number, failuresInARow: number): number {
  return Math.min(pollMs * 2 ** Math.min(failuresInARow - 1, 16), Math.max(pollMs, 2_000));
}

/** Waits for `promise`, but no longer than `ms`; never rejects. */
export async function withDeadline(
  clock: Clock,
  promise: Promise<unknown>,
  ms: number,
): Promise<void> {
  let cancel: CancelTimer | undefined;
  const timeout = new Promise<void>((resolve) => {
    cancel = clock.schedule(ms, resolve, { unref: true });
  });
  try {
    await Promise.race([promise.then(noop, noop), timeout]);
  } finally {
    cancel?.();
  }
}

function noop(): void {}
