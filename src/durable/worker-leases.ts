import type { CancelTimer, Clock } from '../time/clock.js';
import type { ClaimedJob, DurableStore } from './store.js';
import { isStruck } from './worker-struck.js';

/** One job this worker is running. */
export class ActiveRun {
  /** Monotonic time until which this worker knows its lease holds. */
  leaseUntilMono: number;
  /** Another worker took the job: nothing this run reports will be written. */
  lost = false;
  /**
   * The lease ran out on this worker's clock before a renewal came back: the handler is told
   * to stop, and its outcome is written (fenced) only once it has returned.
   */
  expired = false;
  /** Stopping or aborting: the run is handed back without charging an attempt. */
  releasing = false;
  /** Stop gave up waiting and released the lease; whatever the handler does later is ignored. */
  abandoned = false;
  // Made on first use: most handlers never look at their signal, and a controller per job is not free.
  private controller: AbortController | undefined;
  private abortedWith: { readonly reason: unknown } | undefined;

  constructor(
    readonly job: ClaimedJob,
    /** Wall-clock start, for the attempt history. */
    readonly startedAt: number,
    /** Monotonic start, for durations. */
    readonly startedMono: number,
    leaseUntilMono: number,
  ) {
    this.leaseUntilMono = leaseUntilMono;
  }

  /** Aborts when the lease is lost, on shutdown, or when another job aborts the worker. */
  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortedWith !== undefined) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortedWith !== undefined) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}

/**
 * The jobs a worker runs, and the one heartbeat timer that renews all their leases. A lease
 * that the store reports lost, or that runs out on this worker's clock before a renewal came
 * back, aborts its handler's signal: someone else may be running the job now.
 *
 * Every lease end is kept on the worker's monotonic clock, measured from the moment the claim
 * or renewal was *sent* (see docs/durable.md, "One clock per decision"): a late reply can only
 * make the lease this worker believes in shorter than the store's, never longer.
 */
export class LeaseKeeper {
  readonly runs = new Map<string, ActiveRun>();
  /** Runs of jobs that were running when a worker died (`strikes > 0`). */
  struckRunning = 0;
  private cancelTimer: CancelTimer | undefined;
  private renewing = false;

  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly leaseMs: number,
    private readonly heartbeatMs: number,
    private readonly onLost: (run: ActiveRun) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** `sentMono`: the monotonic time read before the claim request was sent. */
  add(job: ClaimedJob, sentMono: number): ActiveRun {
    const run = new ActiveRun(
      job,
      this.clock.wallTime(),
      this.clock.now(),
      sentMono + this.leaseMs,
    );
    this.runs.set(job.id, run);
    if (isStruck(job)) this.struckRunning++;
    return run;
  }

  delete(run: ActiveRun): void {
    if (this.runs.get(run.job.id) !== run) return;
    this.runs.delete(run.job.id);
    if (isStruck(run.job)) this.struckRunning--;
  }

  /** Aborts every running handler; their jobs will be handed back without charge. */
  releaseAll(reason: unknown): void {
    for (const run of this.runs.values()) {
      run.releasing = true;
      run.abort(reason);
    }
  }

  /**
   * Gives up on the handlers still running (they ignore their signal): forgets them, so
   * whatever they do later is ignored, and returns them for their jobs to be released.
   */
  abandonAll(): ActiveRun[] {
    const runs = [...this.runs.values()];
    for (const run of runs) {
      run.abandoned = true;
      this.delete(run);
    }
    return runs;
  }

  start(): void {
    if (this.cancelTimer === undefined) this.arm();
  }

  stop(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
  }

  private arm(): void {
    this.cancelTimer = this.clock.schedule(
      this.heartbeatMs,
      () => {
        // Re-armed before the beat, not after: a renewal that hangs must not stop the ticks
        // that notice leases running out.
        this.arm();
        void this.beat();
      },
      { unref: true },
    );
  }

  /** Renews every lease held; aborts the runs whose lease is gone or ran out. */
  async beat(): Promise<void> {
    // Also while a renewal hangs (a frozen store): a lease that ran out is over, reply or not.
    this.expireOverdue();
    if (this.renewing || this.runs.size === 0) return;
    this.renewing = true;
    const runs = [...this.runs.values()].filter((r) => !r.lost && !r.abandoned && !r.expired);
    // Read before the request is built: the store measures the new lease from a later instant.
    const sentMono = this.clock.now();
    try {
      const lost = new Set(
        await this.store.renew(
          runs.map((r) => ({ id: r.job.id, token: r.job.token })),
          this.leaseMs,
          this.clock.wallTime(),
        ),
      );
      for (const run of runs) {
        if (lost.has(run.job.id)) this.lose(run);
        else if (!run.expired)
          run.leaseUntilMono = Math.max(run.leaseUntilMono, sentMono + this.leaseMs);
      }
    } catch (error) {
      this.onError(error);
    } finally {
      this.renewing = false;
    }
    // A reply that came back after the renewed lease would have ended extends nothing.
    this.expireOverdue();
  }

  /** Marks every run whose lease has ended on this worker's clock as expired, and aborts it. */
  expireOverdue(): void {
    const now = this.clock.now();
    for (const run of this.runs.values()) {
      if (run.lost || run.abandoned || run.expired || now < run.leaseUntilMono) continue;
      run.expired = true;
      this.onLost(run);
    }
  }

  private lose(run: ActiveRun): void {
    if (run.lost || run.abandoned) return;
    const alreadyTold = run.expired;
    run.lost = true;
    if (!alreadyTold) this.onLost(run);
  }
}
