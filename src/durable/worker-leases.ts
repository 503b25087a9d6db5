import type { CancelTimer, Clock } from '../time/clock.js';
import type { ClaimedJob, DurableStore } from './store.js';

/** One job this worker is running. */
export class ActiveRun {
  /** Monotonic time until which this worker knows its lease holds. */
  leaseUntilMono: number;
  /** Another worker took the job: nothing this run reports will be written. */
  lost = false;
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
 * that the store reports lost, or that runs out while the store cannot be reached, aborts its
 * handler's signal: someone else may be running the job now.
 */
export class LeaseKeeper {
  readonly runs = new Map<string, ActiveRun>();
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

  add(job: ClaimedJob, claimedMono: number): ActiveRun {
    // The lease was measured from the claim, which happened a little before now.
    const run = new ActiveRun(job, this.clock.wallTime(), this.clock.now(), claimedMono + this.leaseMs);
    this.runs.set(job.id, run);
    return run;
  }

  delete(run: ActiveRun): void {
    if (this.runs.get(run.job.id) === run) this.runs.delete(run.job.id);
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
        void this.beat().finally(() => {
          if (this.cancelTimer !== undefined) this.arm();
        });
      },
      { unref: true },
    );
  }

  /** Renews every lease held; aborts the runs whose lease is gone. */
  async beat(): Promise<void> {
    if (this.renewing || this.runs.size === 0) return;
    this.renewing = true;
    const runs = [...this.runs.values()].filter((r) => !r.lost && !r.abandoned);
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
        else run.leaseUntilMono = sentMono + this.leaseMs;
      }
    } catch (error) {
      this.onError(error);
      // The store cannot tell us; past our own lease end, assume the worst.
      const now = this.clock.now();
      for (const run of runs) if (now >= run.leaseUntilMono) this.lose(run);
    } finally {
      this.renewing = false;
    }
  }

  private lose(run: ActiveRun): void {
    if (run.lost || run.abandoned) return;
    run.lost = true;
    this.onLost(run);
  }
}
