import type { Classifier } from '../fault.js';
import { errorClassName, isObject } from '../read.js';

/**
 * `AbortError` (someone cancelled) and `TimeoutError` (from `AbortSignal.timeout`), whether
 * thrown as DOMException or as any error with that name.
 */
export const abortClassifier: Classifier = {
  name: 'abort',
  classify(error) {
    if (!isObject(error)) return undefined;
    const name = errorClassName(error); // node-redis' AbortError leaves name as 'Error'
    if (name === 'AbortError') return { category: 'cancelled', code: 'ABORT_ERR' };
    if (name === 'TimeoutError') return { category: 'timeout', code: 'TIMEOUT_ERR' };
    return undefined;
  },
};
