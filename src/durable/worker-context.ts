import type { Clock } from '../time/clock.js';
import { LeaseLostError } from './errors.js';
import { type JobHeaders, parseHeaders } from './headers.js';
import { toJsonText } from './payload.js';
import type { DurableStore } from './store.js';
import type { JobContext } from './worker.js';
import type { ActiveRun } from './worker-leases.js';

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
