import type { Fault } from '../faults/fault.js';
import type { OperationContext } from './policy.js';

/**
 * Why a retry policy stopped without a result:
 * `exhausted` (a limit; RetriesExhaustedError), `skip` / `abort` / `fallback` (the plan said
 * retrying does not help; the original error), `budget_spent` (the shared retry budget
 * refused; the original error), `cancelled` (the caller aborted).
 */
export type RetryStopReason =
  | 'exhausted'
  | 'skip'
  | 'abort'
  | 'fallback'
  | 'budget_spent'
  | 'cancelled';

export interface RetryEvents {
  /** An attempt failed and another one follows after `delayMs`. */
  readonly retry: {
    /** The attempt that failed (1 = the first). */
    readonly attempt: number;
    readonly delayMs: number;
    readonly fault: Fault;
    /** The plan's reason, readable in a log. */
    readonly reason: string;
    readonly operation: OperationContext | undefined;
  };
  /** The policy stopped and the caller gets an error. */
  readonly giveUp: {
    readonly reason: RetryStopReason;
    readonly attempts: number;
    readonly totalDelayMs: number;
    readonly fault: Fault;
    /** What the caller receives (the original error, or a RetriesExhaustedError). */
    readonly error: unknown;
    readonly message: string;
    readonly operation: OperationContext | undefined;
  };
  /** The call succeeded, on attempt `attempts`. */
  readonly success: {
    readonly attempts: number;
    readonly totalDelayMs: number;
    readonly operation: OperationContext | undefined;
  };
}
