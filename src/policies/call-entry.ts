import { ConfigError } from '../faults/errors.js';
import {
  contextFrom,
  type ExecuteContext,
  type ExecuteOptions,
  NEVER_ABORTED,
  PASSED_CONTEXT,
  ROOT_CONTEXT,
} from './policy.js';
import { isThenable } from './settle-call.js';

/** The brand `isRefused` reads: cheaper than `instanceof` on the hot path. */
const REFUSED: unique symbol = Symbol('faultline.refusedCall');

/**
 * A call that must not start. `execute` returns `promise()`: it always answers with a promise,
 * so a caller's `.catch` sees bad input too, never a synchronous throw.
 */
export class RefusedCall {
  readonly [REFUSED] = true;
  constructor(readonly reason: unknown) {}

  promise(): Promise<never> {
    return Promise.reject(this.reason);
  }
}

/** Whether `enterCall` refused the call. */
export function isRefused(entry: ExecuteContext | RefusedCall): entry is RefusedCall {
  return (entry as Partial<RefusedCall>)[REFUSED] === true;
}

/**
 * The door of every `execute`: the context to run `fn` under, or why the call is refused.
 *
 * - `fn` not a function, malformed options (not an object, an unknown key, a signal that is not
 *   an AbortSignal, an operation without a name): a `ConfigError` naming what was wrong, before
 *   anything runs. Without this a retry would call `undefined` three times and report
 *   "retries exhausted".
 * - the caller's signal (or the signal of a `context` passed by hand) already aborted: its
 *   reason, and `fn` is not called (as `fetch` does).
 *
 * Refused calls are not counted in stats: nothing was executed. The no-options path costs one
 * `typeof` (options cost a little more when given); a context handed down by an outer faultline layer
 * (under the package-private PASSED_CONTEXT key) is passed on as it is.
 */
export function enterCall(
  fn: unknown,
  options: ExecuteOptions | undefined,
): ExecuteContext | RefusedCall {
  if (options === undefined && typeof fn === 'function') return ROOT_CONTEXT;
  return enterWithOptions(fn, options);
}

/** Options given, or `fn` is not a function (the fast path above took everything else). */
function enterWithOptions(
  fn: unknown,
  options: ExecuteOptions | undefined,
): ExecuteContext | RefusedCall {
  if (typeof fn !== 'function') {
    // The likely slip, `execute(fetch(url))`, gets its own hint: the work had already started.
    const expected = isThenable(fn)
      ? 'a function that starts the work, not a promise of work already running: execute(() => fetch(url))'
      : 'a function: execute((context) => work, options)';
    return new RefusedCall(new ConfigError('fn', fn, expected));
  }
  // A context handed down by an outer faultline layer (under the package-private key) was
  // checked at that layer's door. Its signal is not read here: reading it would make a lazy one
  // (a timeout's) build its AbortController. A `context` passed by hand is checked below.
  const passed = options?.[PASSED_CONTEXT];
  if (passed !== undefined) return passed;
  const invalid = invalidOptions(options);
  if (invalid !== undefined) return new RefusedCall(invalid);
  const context = contextFrom(options);
  const signal = context.signal;
  if (signal !== NEVER_ABORTED && signal.aborted) return new RefusedCall(signal.reason);
  return context;
}

const OPTION_KEYS = 'signal, operation, context';

function invalidOptions(options: unknown): ConfigError | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    return new ConfigError('options', options, `an object with ${OPTION_KEYS}, or nothing`);
  }
  for (const key in options) {
    if (key !== 'signal' && key !== 'operation' && key !== 'context') {
      return new ConfigError(
        `options.${key}`,
        (options as Record<string, unknown>)[key],
        `no such option; known: ${OPTION_KEYS}`,
      );
    }
  }
  const { signal, operation, context } = options as ExecuteOptions;
  if (context !== undefined && !isContext(context)) {
    return new ConfigError(
      'options.context',
      context,
      'the context an outer policy passed to its function ({ signal, attempt, operation? })',
    );
  }
  if (signal !== undefined && !isAbortSignal(signal)) {
    return new ConfigError('options.signal', signal, 'an AbortSignal');
  }
  if (operation !== undefined && !isOperation(operation)) {
    return new ConfigError('options.operation', operation, 'a name, or { name, attributes? }');
  }
  return undefined;
}

/** Duck-typed, so a signal from another realm (a vm context, a test DOM) is accepted too. */
function isAbortSignal(value: unknown): value is AbortSignal {
  if (value instanceof AbortSignal) return true;
  const candidate = value as Partial<AbortSignal> | null;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.aborted === 'boolean' &&
    typeof candidate.addEventListener === 'function' &&
    typeof candidate.removeEventListener === 'function'
  );
}

function isContext(value: unknown): value is ExecuteContext {
  if (typeof value !== 'object' || value === null) return false;
  const { signal, attempt, operation } = value as Partial<ExecuteContext>;
  return (
    isAbortSignal(signal) &&
    typeof attempt === 'number' &&
    Number.isSafeInteger(attempt) &&
    attempt >= 1 &&
    (operation === undefined || isOperation(operation))
  );
}

function isOperation(value: unknown): boolean {
  if (typeof value === 'string') return value.length > 0;
  if (typeof value !== 'object' || value === null) return false;
  const { name, attributes } = value as { name?: unknown; attributes?: unknown };
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    (attributes === undefined || (typeof attributes === 'object' && attributes !== null))
  );
}
