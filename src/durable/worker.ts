import { ConfigError } from '../faults/errors.js';
import { Events } from '../observe/events.js';
import type { Decision } from '../recovery/plan.js';
import type { Clock } from '../time/clock.js';
import { LeaseLostError } from './errors.js';
import { type Interceptor, InterceptorChain } from './interceptors.js';
import type { Queue } from './queue.js';
import type { ClaimedJob } from './store.js';
import { AckBatcher } from './worker-acks.js';
import { StruckJobGate, struckFirst } from './worker-struck.js';
import { JobsAhead } from './worker-ahead.js';
import { DrainWaiters } from './worker-drain.js';
import { RunsInFlight } from './worker-inflight.js';
import { HandBacks } from './worker-handback.js';
import { QueuePause } from './worker-pause.js';
import { schedulePrune } from './worker-prune.js';
import { type JobHandler, RunContext } from './worker-context.js';
import { type FailedRun, failedRunOutcome, unhealableStoreFault } from './worker-decide.js';
import type { WorkerEvents } from './worker-events.js';
import { type ActiveRun, LeaseKeeper } from './worker-leases.js';
import {
  type ResolvedWorkerOptions,
  resolveWorkerOptions,
  type WorkerOptions,
} from './worker-options.js';
import { reportLeaseLost, reportOutcome } from './worker-report.js';
import { SummaryCounter, type WorkerSummary } from './worker-summary.js';
import { storeBackoffMs, Wakeup, withDeadline } from './worker-wait.js';

// Re-exported: the worker's vocabulary is imported from here.
export type { JobContext, JobHandler } from './worker-context.js';
export type { WorkerEvents } from './worker-events.js';

/** Wraps every run of a job, from claim to reported outcome (tracing); see `Worker.intercept`. */
export type RunInterceptor = Interceptor<ClaimedJob, void>;

const SHUTDOWN = 'the worker is stopping';

/**
 * Runs the jobs of one queue: claims them in batches under a lease, runs the handler (inside
 * the pipeline, if any), applies the recovery plan to failures and reports outcomes in batches.
 * One heartbeat renews every lease; a lost lease aborts its handler.
 */
export class Worker<P = unknown> {
  readonly events = new Events<WorkerEvents>();
  readonly workerId: string;
  private readonly clock: Clock;
  private readonly options: ResolvedWorkerOptions;
  private readonly leases: LeaseKeeper;
  private readonly acks: AckBatcher;
  private readonly ahead: JobsAhead;
  private readonly struckGate: StruckJobGate;
  private readonly handBacks: HandBacks;
  private readonly pauses: QueuePause;
  private readonly drainWaiters: DrainWaiters;
  private readonly counter = new SummaryCounter();
  private readonly wakeup: Wakeup;
  private readonly inFlight = new RunsInFlight();
  private started = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private stopped: Promise<WorkerSummary> | undefined;
  private claimFailures = 0;
  private cancelPrune: (() => void) | undefined;
  private offEnqueued: (() => void) | undefined;
  private readonly interceptors = new InterceptorChain<ClaimedJob, void>();
  private offStoreWake: (() => void) | undefined;

  constructor(
    readonly queue: Queue<P>,
    private readonly handler: JobHandler<P>,
    options: WorkerOptions = {},
  ) {
    if (typeof queue !== 'object' || queue === null || typeof queue.enqueue !== 'function')
      throw new ConfigError('queue', queue, 'a Queue');
    if (typeof handler !== 'function')
      throw new ConfigError('handler', handler, 'a function (payload, context) => ...');
    this.clock = options.clock ?? queue.clock;
    this.options = resolveWorkerOptions(options, this.clock);
    this.workerId = this.options.workerId;
    this.wakeup = new Wakeup(this.clock, !this.options.keepAlive);
    this.leases = new LeaseKeeper(
      queue.store,
      this.clock,
      this.options.leaseMs,
      this.options.heartbeatMs,
      (run) => this.onLeaseLost(run),
      (error) => this.onStoreFault(error, 'renew'),
    );
    this.ahead = new JobsAhead(this.options.prefetch, this.options.maxPrefetch);
    this.struckGate = new StruckJobGate();
    this.acks = new AckBatcher(
      queue.store,
      this.clock,
      (error) => this.onStoreFault(error, 'settle'),
      Math.min(this.options.pollMs, 1_000),
    );
    this.handBacks = new HandBacks(this.acks);
    this.pauses = new QueuePause(queue, this.clock, this.events, this.counter);
    this.drainWaiters = new DrainWaiters(queue, (error) =>
      this.events.emit('error', { error, during: 'drain' }),
    );
  }

  /** Starts claiming and running jobs. Returns the worker, for chaining. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    this.leases.start();
    this.offEnqueued = this.queue.events.on('enqueued', () => this.wakeup.wake());
    // Enqueues by other processes, where the store can tell (PostgreSQL: LISTEN/NOTIFY).
    this.offStoreWake = this.queue.store.onWake?.(this.queue.name, () => this.wakeup.wake());
    this.cancelPrune = schedulePrune(
      this.clock,
      this.options.pruneEveryMs,
      () => this.queue.prune(),
      (error) => this.events.emit('error', { error, during: 'prune' }),
    );
    this.loopDone = this.loop();
    return this;
  }

  /**
   * Wraps every job run from now on: `interceptor(job, proceed)` must call `proceed()` once; it
   * resolves after the outcome is written and reported (events included). This is how
   * `faultline/otel` runs each job inside its span. Returns a function that removes it.
   */
  intercept(interceptor: RunInterceptor): () => void {
    return this.interceptors.add(interceptor);
  }

  /** Jobs running right now. */
  get running(): number {
    return this.leases.runs.size;
  }

  summary(): WorkerSummary {
    return this.counter.snapshot();
  }

  /**
   * Resolves when the queue has nothing waiting, delayed or running (checked whenever this
   * worker finds nothing to claim) or when the worker stops.
   */
  drained(): Promise<void> {
    if (this.stopping) return Promise.resolve();
    const drained = this.drainWaiters.wait();
    this.wakeup.wake();
    return drained;
  }

  /**
   * Stops: no new claims; running handlers get until `deadlineMs` (default 10 s) to finish,
   * then their signal aborts and their jobs are released (claimable at once, attempt not
   * charged). Outcomes are written, then the heartbeat stops. Resolves with the summary even
   * when the store fails or hangs.
   */
  stop(options: { readonly deadlineMs?: number } = {}): Promise<WorkerSummary> {
    this.stopped ??= this.shutdown(options.deadlineMs ?? 10_000);
    return this.stopped;
  }

  private async loop(): Promise<void> {
    const { concurrency, batchSize } = this.options;
    while (!this.stopping) {
      this.startAhead();
      const free = concurrency - this.leases.runs.size;
      // Claim for idle slots at once; ahead only when the held jobs run low (not one by one).
      if (free <= 0 && !this.ahead.low) {
        await this.wakeup.wait(Number.POSITIVE_INFINITY);
        // Let every run finishing in this turn free its slot, so the next claim is a batch.
        await new Promise<void>((resolve) => setImmediate(resolve));
        continue;
      }
      await this.pauses.writeBeforeClaim();
      await this.handBacks.writeBeforeClaim();
      let jobs: ClaimedJob[];
      // Read before the request (and its wall-clock `now`) is built: the store's lease starts at
      // or after this instant, so sentMono + leaseMs never ends later than the store's lease.
      const sentMono = this.clock.now();
      const heldStruck = this.leases.struckRunning + this.ahead.struck;
      const maxStruck = this.struckGate.maxStruck(heldStruck, free);
      const limit = Math.min(Math.max(free, 0) + this.ahead.room, batchSize);
      this.ahead.claimSent(free, limit);
      try {
        jobs = await this.queue.store.claim({
          queue: this.queue.name,
          workerId: this.workerId,
          limit,
          leaseMs: this.options.leaseMs,
          now: this.clock.wallTime(),
          maxStrikes: this.options.maxStrikes,
          maxStruck,
        });
        this.claimFailures = 0;
        this.ahead.claimReturned(jobs.length);
      } catch (error) {
        this.ahead.claimReturned(0);
        if (this.onStoreError(error, 'claim')) break;
        await this.wakeup.wait(storeBackoffMs(this.options.pollMs, this.claimFailures));
        continue;
      }
      if (this.stopping) {
        // Claimed while stop began: hand them straight back, at no cost to the jobs.
        this.handBacks.giveAll(jobs);
        break;
      }
      // Free slots take the claimed jobs at once, a struck one first; the rest are held.
      for (const job of struckFirst(jobs)) {
        if (this.stopping || this.leases.runs.size >= concurrency) this.ahead.add(job, sentMono);
        else this.startClaimed(job, sentMono, this.options.leaseMs - this.options.startMarginMs);
      }
      if (this.struckGate.claimAgain(jobs.length)) continue;
      if (jobs.length === 0) {
        if (this.leases.runs.size === 0 && this.ahead.size === 0) await this.onIdle();
        await this.wakeup.wait(this.options.pollMs);
      } else {
        // One claim per event-loop turn: outcome writes, heartbeats and I/O get their turn, and
        // slots freed meanwhile are claimed together rather than one claim each.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
  }

  /**
   * Starts held jobs in free slots, in claim order. A held job is not renewed, so it must start
   * within half the window a claimed job gets: then its first heartbeat still comes with the
   * margin (one heartbeat and the clock skew between workers) intact.
   */
  private startAhead(): void {
    const window = (this.options.leaseMs - this.options.startMarginMs) / 2;
    while (!this.stopping && this.leases.runs.size < this.options.concurrency) {
      const held = this.ahead.next();
      if (held === undefined) return;
      if (this.startClaimed(held.job, held.sentMono, window)) this.ahead.startedInTime();
      else this.ahead.wentStale();
    }
  }

  /**
   * Starts a claimed job if no more than `window` ms have passed since its claim was sent;
   * else hands it back unstarted. A reply that took most of the lease (a frozen or distant
   * store), or a job held until then, is not started: the lease may end before the handler
   * does, and then someone else may run the job too. Checked per job, right before its start:
   * a handler that blocks before its first await delays the starts of the rest.
   */
  private startClaimed(job: ClaimedJob, sentMono: number, window: number): boolean {
    if (this.clock.now() - sentMono > window) {
      this.counter.staleClaims++;
      this.handBacks.give(job);
      return false;
    }
    this.inFlight.add(
      this.interceptors.size === 0
        ? this.runJob(job, sentMono)
        : this.interceptors.run(job, () => this.runJob(job, sentMono)),
    );
    return true;
  }

  /** Stop, pause or abort: every held job goes back unstarted, at no cost to it. */
  private handBackAhead(): void {
    this.handBacks.giveAll(this.ahead.takeAll());
  }

  /**
   * A store call failed. A fault that cannot heal (`resource` and not retryable: a corrupt,
   * read-only, full or vanished store) aborts the worker through the plan's abort path;
   * anything else is counted and the caller backs off. Returns true when the worker aborts.
   */
  private onStoreError(error: unknown, during: WorkerEvents['error']['during']): boolean {
    if (this.onStoreFault(error, during)) return true;
    this.claimFailures++;
    this.counter.storeErrors++;
    return false;
  }

  /**
   * Any store call of the worker failed (claim, renewal, outcome write): reports it, and for a
   * fault that cannot heal aborts the worker (once: later ones find it aborted). Returns true
   * for such a fault, so the caller stops retrying the call.
   */
  private onStoreFault(error: unknown, during: WorkerEvents['error']['during']): boolean {
    this.events.emit('error', { error, during });
    const abort = unhealableStoreFault(this.options.classify, error);
    if (abort !== undefined) this.abortWork(abort);
    return abort !== undefined;
  }

  private async runJob(job: ClaimedJob, sentMono: number): Promise<void> {
    const run = this.leases.add(job, sentMono);
    if (this.events.has('claimed'))
      this.events.emit('claimed', { jobId: job.id, queue: job.queue, attempt: job.attempt });
    let settled: FailedRun | undefined;
    try {
      const payload = JSON.parse(job.payload) as P;
      const context = this.contextFor(run);
      const pipeline = this.options.pipeline;
      if (pipeline === undefined) await this.handler(payload, context);
      else
        await pipeline.execute((ctx) => this.handler(payload, context.withSignal(ctx.signal)), {
          signal: run.signal,
        });
      settled = { outcome: { id: job.id, token: job.token, kind: 'complete' }, failure: undefined };
    } catch (error) {
      settled = failedRunOutcome(run, error, this.options, this.clock, this.counter);
      if (settled?.failure?.kind === 'pause' && this.pauses.pause(settled.failure.decision))
        this.handBackAhead();
      if (settled?.failure?.kind === 'abort') this.abortWork(settled.failure.decision);
    } finally {
      this.leases.delete(run);
      // The freed slot takes the next held job now, not after the loop's next turn.
      this.startAhead();
      this.wakeup.wake();
    }
    if (settled === undefined || run.lost || run.abandoned) return;
    const applied = await this.acks.push(settled.outcome);
    if (!applied) {
      // An expired run was already counted and reported when its lease ran out.
      if (!run.expired) reportLeaseLost(this.events, this.counter, run);
      return;
    }
    this.struckGate.recorded();
    reportOutcome(this.events, this.counter, this.clock, run, settled.outcome, settled.failure);
  }

  private contextFor(run: ActiveRun): RunContext {
    return new RunContext(run, this.queue.store, this.clock, () => this.onLeaseLostOnce(run));
  }

  private onLeaseLost(run: ActiveRun): void {
    reportLeaseLost(this.events, this.counter, run);
    run.abort(new LeaseLostError(run.job.id));
  }

  private onLeaseLostOnce(run: ActiveRun): void {
    if (run.lost) return;
    run.lost = true;
    this.onLeaseLost(run);
  }

  /** A fault said stop: no more claims, running jobs are released, the owner is told. */
  private abortWork(decision: Decision): void {
    if (this.counter.aborted) return;
    this.counter.aborted = true;
    this.stopping = true;
    this.cancelPrune?.();
    this.wakeup.wake();
    this.handBackAhead();
    this.leases.releaseAll(decision.fault.cause ?? new Error(decision.reason));
    this.events.emit('aborted', { decision });
    // Nobody should wait for a drain that this worker will no longer do.
    this.drainWaiters.resolveAll();
    this.options.onAbort?.(decision);
  }

  private async onIdle(): Promise<void> {
    if (this.events.has('idle')) this.events.emit('idle', { queue: this.queue.name });
    await this.drainWaiters.checkIdle();
  }

  private async shutdown(deadlineMs: number): Promise<WorkerSummary> {
    const deadline = this.clock.now() + deadlineMs;
    const left = () => Math.max(0, deadline - this.clock.now());
    this.stopping = true;
    this.wakeup.wake();
    this.offEnqueued?.();
    this.offStoreWake?.();
    this.cancelPrune?.();
    await withDeadline(this.clock, this.loopDone, left());
    this.handBackAhead();
    await withDeadline(this.clock, this.inFlight.settled(), left());
    if (this.leases.runs.size > 0) {
      // Out of time: abort the handlers and give them a moment to hand their jobs back.
      this.leases.releaseAll(new Error(SHUTDOWN));
      await withDeadline(
        this.clock,
        this.inFlight.settled(),
        Math.max(left(), Math.min(1_000, deadlineMs / 10)),
      );
      // The handlers ignore their signal: release their jobs anyway.
      for (const { job } of this.leases.abandonAll()) {
        this.counter.released++;
        void this.acks.push({ id: job.id, token: job.token, kind: 'release', refund: true });
      }
    }
    await withDeadline(this.clock, this.acks.flush(), Math.max(left(), 1_000));
    // What the store still refuses is dropped now; the runs waiting on it report it unrecorded
    // (in this turn's microtasks: a write that hangs is not waited for).
    this.acks.close();
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.leases.stop();
    this.wakeup.close();
    this.drainWaiters.resolveAll();
    const summary = this.counter.snapshot();
    this.events.emit('stopped', { summary });
    return summary;
  }
}
