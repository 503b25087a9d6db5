import type { Clock } from '../time/clock.js';
import { LeaseLostError } from './errors.js';
import { type JobHeaders, parseHeaders } from './headers.js';
import { toJsonText } from './payload.js';
import type { DurableStore } from './store.js';
import type { ActiveRun } from './worker-leases.js';

/** What a handler receives besides the payload. */
export interface JobContext {
  /** Aborts when the lease is lost, when the worker stops, or when another job aborts the worker. */
  readonly signal: AbortSignal;
  /** 1 for the first run; runs handed back without charge (pause, shutdown) do not count. */
  readonly attempt: number;
  /** `token` is this claim's fencing token: pass it to downstream systems that can reject stale writers. */
  readonly job: {
    readonly id: string;
    readonly token: string;
    readonly queue: string;
    readonly priority: number;
    readonly enqueuedAt: number;
  };
  /** The headers given at enqueue (trace context, correlation ids); empty when none. */
  readonly headers: JobHeaders;
  /** The last checkpoint saved for this job by an earlier run, if any. */
  readonly checkpoint: unknown;
  /** Saves progress for the next run. Throws LeaseLostError (and writes nothing) when the lease is gone. */
  saveCheckpoint(state: unknown): Promise<void>;
}

/** Runs one job; what it throws is classified and handled by the recovery plan. */
export type JobHandler<P> = (payload: P, context: JobContext) => unknown;

/**
 * The context a handler receives. A class with getters rather than an object of closures:
 * one small allocation per job, and the signal and checkpoint are only built when read.
 */
export class RunContext implements JobContext {
  constructor(
    private readonly run: ActiveRun,
    private readonly store: DurableStore,
    private readonly clock: Clock,
    private readonly onLost: () => void,
    private readonly signalOverride?: AbortSignal,
  ) {}

  get signal(): AbortSignal {
    return this.signalOverride ?? this.run.signal;
  }

  /** The same context with the signal a pipeline gives (it also aborts on the pipeline's timeout). */
  withSignal(signal: AbortSignal): RunContext {
    return new RunContext(this.run, this.store, this.clock, this.onLost, signal);
  }

  get attempt(): number {
    return this.run.job.attempt;
  }

  get job(): JobContext['job'] {
    const { id, token, queue, priority, enqueuedAt } = this.run.job;
    return { id, token, queue, priority, enqueuedAt };
  }

  get headers(): JobHeaders {
    return parseHeaders(this.run.job.headers);
  }

  get checkpoint(): unknown {
    const text = this.run.job.checkpoint;
    return text === undefined ? undefined : JSON.parse(text);
  }

  async saveCheckpoint(state: unknown): Promise<void> {
    const text = toJsonText(state, 'checkpoint');
    const { run } = this;
    if (run.lost || run.abandoned) throw new LeaseLostError(run.job.id);
    const saved = await this.store.saveJobCheckpoint(
      { id: run.job.id, token: run.job.token },
      text,
      this.clock.wallTime(),
    );
    if (!saved) {
      this.onLost();
      throw new LeaseLostError(run.job.id);
    }
  }
}
