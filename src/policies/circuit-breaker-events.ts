import type { CircuitState } from './breaker-state.js';
import type { OperationContext } from './policy.js';

/** A circuit breaker changed state. */
export interface CircuitStateChange {
  readonly breaker: string | undefined;
  readonly from: CircuitState;
  readonly to: CircuitState;
  /** Why, in words: `5 consecutive failures`, `probe failed`, `open for 30000 ms`, `isolated`, ... */
  readonly reason: string;
  /** For `to: 'open'`: how long until a probe is let through. */
  readonly openForMs?: number;
  /** The operation of the call that caused the change, if a call did. */
  readonly operation?: OperationContext;
}

/** A call was refused unrun (open, isolated, or half-open with every probe slot taken). */
export interface CircuitRejection {
  readonly breaker: string | undefined;
  readonly state: CircuitState;
  readonly retryAfterMs: number | undefined;
  readonly operation?: OperationContext;
}

export interface CircuitBreakerEvents {
  stateChange: CircuitStateChange;
  rejected: CircuitRejection;
}

/** Adds the call's operation to an event only when there is one (no `operation: undefined`). */
export function withEventOperation<E extends object>(
  event: E,
  operation: OperationContext | undefined,
): E {
  if (operation !== undefined) (event as { operation?: OperationContext }).operation = operation;
  return event;
}
