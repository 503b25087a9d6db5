import type { Fault } from '../faults/fault.js';
import type { Decision } from '../recovery/plan.js';
import type { WorkerSummary } from './worker-summary.js';

/** What a worker emits on `worker.events`. */
export interface WorkerEvents {
  claimed: { readonly jobId: string; readonly queue: string; readonly attempt: number };
  completed: {
    readonly jobId: string;
    readonly queue: string;
    readonly attempt: number;
    readonly durationMs: number;
  };
  /** A run failed and the job goes back to the queue; the same name and fields as a retry policy's `retry`. */
  retry: {
    readonly jobId: string;
    readonly queue: string;
    /** The attempt that failed (1 = the first). */
    readonly attempt: number;
    readonly delayMs: number;
    readonly fault: Fault;
    /** The plan's reason, readable in a log. */
    readonly reason: string;
  };
  /**
   * The job is dead-lettered; the same name and fields as a retry policy's `giveUp`. `skip`: the
   * plan does not retry this fault; `exhausted`: attempts, time or the pause budget ran out.
   */
  giveUp: {
    readonly jobId: string;
    readonly queue: string;
    readonly reason: 'skip' | 'exhausted';
    /** The plan's reason, readable in a log. */
    readonly message: string;
    /** Runs charged to the job, this one included. */
    readonly attempts: number;
    readonly fault: Fault;
  };
  /** The queue is paused for every worker until `until` (wall clock, ms since the epoch), as `Queue.pause`. */
  paused: {
    readonly queue: string;
    readonly until: number;
    readonly delayMs: number;
    readonly fault: Fault;
  };
  released: {
    readonly jobId: string;
    readonly queue: string;
    readonly reason: 'pause' | 'abort' | 'shutdown';
  };
  leaseLost: { readonly jobId: string; readonly queue: string };
  aborted: { readonly decision: Decision };
  error: {
    readonly error: unknown;
    readonly during: 'claim' | 'settle' | 'renew' | 'checkpoint' | 'prune' | 'pause' | 'drain';
  };
  idle: { readonly queue: string };
  stopped: { readonly summary: WorkerSummary };
}
