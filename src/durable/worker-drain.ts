import type { Queue } from './queue.js';

/**
 * Callers of `Worker.drained()`: resolved when the worker, finding nothing to claim, sees the
 * whole queue empty (nothing waiting, delayed or running), or when it stops or aborts.
 */
export class DrainWaiters {
  private readonly waiters: (() => void)[] = [];

  constructor(
    private readonly queue: Queue<unknown>,
    private readonly onError: (error: unknown) => void,
  ) {}

  wait(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker found nothing to claim: if anyone waits, asks the store whether all is done. */
  async checkIdle(): Promise<void> {
    if (this.waiters.length === 0) return;
    try {
      const stats = await this.queue.stats();
      if (stats.waiting + stats.delayed + stats.running === 0) this.resolveAll();
    } catch (error) {
      this.onError(error);
    }
  }

  resolveAll(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
