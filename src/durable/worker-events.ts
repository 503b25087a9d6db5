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
  retried: {
    readonly jobId: string;
    readonly queue: string;
    readonly attempt: number;
    readonly delayMs: number;
    readonly fault: Fault;
  };
  deadLettered: {
    readonly jobId: string;
    readonly queue: string;
    readonly attempt: number;
    readonly reason: string;
    readonly fault: Fault;
    /** `skip`: the plan does not retry this fault; `give_up`: attempts, time or pause budget ran out. */
    readonly action: 'skip' | 'give_up';
  };
  paused: {
    readonly queue: string;
    readonly untilMs: number;
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
