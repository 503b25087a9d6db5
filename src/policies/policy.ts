import type { Fault, FaultCategory } from '../faults/fault.js';
import type { Events } from '../observe/events.js';

/**
 * Every policy has the same shape: made from validated options, it runs a function through
 * `execute(fn, options)`, emits typed events and keeps stats.
 */

/** Who is calling and about what: travels with every event and error report. */
export interface OperationContext {
  /** What is being done, e.g. `download_video`. */
  readonly name: string;
  /** Key-values that identify the work, e.g. `{ videoId, service }`. */
  readonly attributes?: Readonly<Record<string, unknown>>;
}

/** Options of one `execute` call; all optional. */
export interface ExecuteOptions {
  /**
   * Aborts the whole execution, waits included. Already aborted: the call is not started and
   * `execute` rejects with the signal's reason.
   * @defaultValue `undefined` (only the policies' own limits end the call)
   */
  readonly signal?: AbortSignal;
  /**
   * The operation, by name or with attributes, carried to events and errors.
   * @defaultValue `undefined`
   */
  readonly operation?: string | OperationContext;
  /**
   * The context of an outer policy's function, when you nest policies by hand
   * (`outer.execute((ctx) => inner.execute(fn, { context: ctx }))`): the signal, attempt and
   * operation flow through, and a retry budget shared by both counts the request once. It
   * passes the same door as `signal`: a malformed context is a ConfigError, an aborted one's
   * signal refuses the call without running `fn`. `signal` and `operation` are ignored when set.
   * @defaultValue `undefined`
   */
  readonly context?: ExecuteContext;
  /**
   * @internal The context an outer faultline layer is running under (set by `pipeline`), passed
   * on as it is, so nesting allocates nothing. Keyed by a symbol the package does not export,
   * because the door check is skipped for it: its signal is not read (reading a timeout's lazy
   * signal would build its AbortController), so only layers that made that check may use it.
   */
  readonly [PASSED_CONTEXT]?: ExecuteContext;
}

/** @internal The key of a context handed down by an outer layer (see ExecuteOptions). */
export const PASSED_CONTEXT: unique symbol = Symbol('faultline.passedContext');

/** @internal Options that hand `context` down to an inner layer, past its door check. */
export function passContext(context: ExecuteContext): ExecuteOptions {
  return { [PASSED_CONTEXT]: context };
}

/** What the protected function receives. */
export interface ExecuteContext {
  /** Aborts when the caller aborts, a timeout fires, a hedge loses, or the worker loses its lease. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt; a retry policy counts up. */
  readonly attempt: number;
  /** The fault that ended the previous attempt, if any. */
  readonly previousFault?: Fault;
  readonly operation?: OperationContext;
}

export type Operation<T> = (context: ExecuteContext) => PromiseLike<T> | T;

/** Counters every policy keeps; policies add their own fields. */
export interface PolicyStats {
  /** Calls that entered the policy. */
  readonly executions: number;
  readonly successes: number;
  readonly failures: number;
  readonly failuresByCategory: Readonly<Partial<Record<FaultCategory, number>>>;
  /** Calls refused without running (open breaker, full bulkhead, no token, budget spent). */
  readonly rejections: number;
  /** Extra attempts made (retry, hedge). */
  readonly retries: number;
}

export interface Policy<EventMap extends object = object> {
  /** The kind of policy, e.g. `retry`, `circuitBreaker`. */
  readonly kind: string;
  readonly events: Events<EventMap>;
  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T>;
  stats(): PolicyStats;
  /** A one-line human description (used by `pipeline.describe()`). */
  describe(): string;
}

/** A signal that never aborts, shared by every execution whose caller passed none. */
export const NEVER_ABORTED: AbortSignal = new AbortController().signal;

/**
 * The context for a call: the outer layer's if there is one, else a fresh one for attempt 1.
 * Policies that neither change the signal nor count attempts forward this object untouched.
 */
export function contextFrom(options: ExecuteOptions | undefined): ExecuteContext {
  if (options === undefined) return ROOT_CONTEXT;
  const passed = options[PASSED_CONTEXT] ?? options.context;
  if (passed !== undefined) return passed;
  if (options.signal === undefined && options.operation === undefined) return ROOT_CONTEXT;
  const operation = toOperation(options.operation);
  return operation === undefined
    ? { signal: options.signal ?? NEVER_ABORTED, attempt: 1 }
    : { signal: options.signal ?? NEVER_ABORTED, attempt: 1, operation };
}

/** @internal Shared context of a call with no signal, no operation, first attempt. Never mutated. */
export const ROOT_CONTEXT: ExecuteContext = Object.freeze({ signal: NEVER_ABORTED, attempt: 1 });

export function toOperation(operation: ExecuteOptions['operation']): OperationContext | undefined {
  if (operation === undefined) return undefined;
  return typeof operation === 'string' ? { name: operation } : operation;
}

/**
 * Attaches the operation to an error a policy throws (TimeoutError, RetriesExhaustedError,
 * ...), so a failure report says who failed doing what. Errors already carrying one keep it.
 */
export function withOperation<E>(error: E, operation: OperationContext | undefined): E {
  if (
    operation !== undefined &&
    typeof error === 'object' &&
    error !== null &&
    !('operation' in error)
  ) {
    Object.defineProperty(error, 'operation', {
      value: operation,
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return error;
}
