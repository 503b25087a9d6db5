import type { FaultCategory } from '../faults/fault.js';

/** The end-of-run report of a worker: what happened to the jobs it ran, and why. */
export interface WorkerSummary {
  /** Jobs that completed. */
  readonly processed: number;
  /** Failed runs sent back to the queue for another attempt. */
  readonly retried: number;
  /** Jobs dead-lettered because the plan skips their fault (validation, permanent, ...). */
  readonly skipped: number;
  /** Jobs dead-lettered because their retries or the pause budget ran out. */
  readonly exhausted: number;
  /** All dead-lettered jobs (skipped + exhausted). */
  readonly deadLettered: number;
  /** Jobs handed back without charging an attempt (pause, abort, shutdown). */
  readonly released: number;
  /** Runs abandoned because another worker took the lease or it ran out before a renewal came back. */
  readonly leasesLost: number;
  /** Claims handed back unstarted because their lease had (nearly) run out when the reply arrived. */
  readonly staleClaims: number;
  /** Store calls that failed with a fault expected to heal (busy, connection dropped), retried. */
  readonly storeErrors: number;
  /** Times the queue was paused by this worker, and for how long in all. */
  readonly pauses: number;
  readonly pausedMs: number;
  /** Failed runs by fault category. */
  readonly failuresByCategory: Readonly<Partial<Record<FaultCategory, number>>>;
  /** Whether a fault's decision stopped the worker. */
  readonly aborted: boolean;
}

export class SummaryCounter {
  processed = 0;
  retried = 0;
  skipped = 0;
  exhausted = 0;
  released = 0;
  leasesLost = 0;
  staleClaims = 0;
  storeErrors = 0;
  pauses = 0;
  pausedMs = 0;
  aborted = false;
  private readonly byCategory: Partial<Record<FaultCategory, number>> = {};

  failure(category: FaultCategory): void {
    this.byCategory[category] = (this.byCategory[category] ?? 0) + 1;
  }

  snapshot(): WorkerSummary {
    return {
      processed: this.processed,
      retried: this.retried,
      skipped: this.skipped,
      exhausted: this.exhausted,
      deadLettered: this.skipped + this.exhausted,
      released: this.released,
      leasesLost: this.leasesLost,
      staleClaims: this.staleClaims,
      storeErrors: this.storeErrors,
      pauses: this.pauses,
      pausedMs: this.pausedMs,
      failuresByCategory: { ...this.byCategory },
      aborted: this.aborted,
    };
  }
}
