import type { ExecuteContext, Operation } from './policy.js';

/**
 * Runs `fn` and passes its outcome to handlers, instead of wrapping the call in an `async`
 * function: an extra async frame costs a promise and a resumption per call, which is most of a
 * policy's overhead. Handlers bound once (per policy, or per breaker state) make the success
 * path allocate nothing beyond the promise `then` returns.
 *
 * `onFailure` either rethrows (it records and passes the error on) or recovers: whatever it
 * returns, a value or a promise, becomes the call's outcome (a retry, a fallback). A
 * synchronous value or throw from `fn` is handled at once; any thenable is adopted.
 */
export function settleCall<T>(
  fn: Operation<T>,
  context: ExecuteContext,
  onSuccess: (value: T) => T,
  onFailure: (error: unknown) => T | PromiseLike<T>,
): Promise<T> {
  let pending: PromiseLike<T> | T;
  try {
    pending = fn(context);
  } catch (error) {
    return settleFailure(onFailure, error);
  }
  if (pending instanceof Promise) return pending.then(onSuccess, onFailure);
  if (isThenable(pending)) return Promise.resolve(pending).then(onSuccess, onFailure);
  try {
    return Promise.resolve(onSuccess(pending));
  } catch (error) {
    return Promise.reject(error);
  }
}

function settleFailure<T>(
  onFailure: (error: unknown) => T | PromiseLike<T>,
  error: unknown,
): Promise<T> {
  try {
    return Promise.resolve(onFailure(error));
  } catch (passedOn) {
    return Promise.reject(passedOn);
  }
}

/** Whether `value` is a promise or promise-like (has a callable `then`). */
export function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
