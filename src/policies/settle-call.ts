import type { ExecuteContext, Operation } from './policy.js';

/**
 * Runs `fn` and passes its outcome to handlers that were bound once (per policy, or per
 * breaker state), instead of wrapping the call in an `async` function: an extra async frame
 * costs a promise and a resumption per call, which is most of a policy's overhead.
 * `onFailure` must rethrow (it records and passes the error on). A synchronous value or throw
 * from `fn` is handled at once; any thenable is adopted.
 */
export function settleCall<T>(fn: Operation<T>, context: ExecuteContext, onSuccess: (value: T) => T, onFailure: (error: unknown) => never): Promise<T> {
  let pending: PromiseLike<T> | T;
  try {
    pending = fn(context);
  } catch (error) {
    return rejected(onFailure, error);
  }
  if (pending instanceof Promise) return pending.then(onSuccess, onFailure);
  if (isThenable(pending)) return Promise.resolve(pending).then(onSuccess, onFailure);
  return Promise.resolve(onSuccess(pending));
}

function rejected(onFailure: (error: unknown) => never, error: unknown): Promise<never> {
  try {
    onFailure(error);
  } catch (passedOn) {
    return Promise.reject(passedOn);
  }
  return Promise.reject(error);
}

function isThenable<T>(value: PromiseLike<T> | T): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
