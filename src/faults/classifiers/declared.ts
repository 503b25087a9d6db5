import type { Classifier, FaultHint } from '../fault.js';
import { isFaultCategory } from '../fault.js';
import { isObject } from '../read.js';

/**
 * An error that states its own category (every faultline error does, and so can a user's:
 * `Object.assign(new Error('quota'), { category: 'rate_limit', retryAfterMs: 60_000 })`)
 * is taken at its word.
 */
export const declaredClassifier: Classifier = {
  name: 'declared',
  classify(error): FaultHint | undefined {
    if (!isObject(error)) return undefined;
    const category = error.category;
    if (!isFaultCategory(category)) return undefined;
    const retryable = error.retryable;
    const retryAfterMs = error.retryAfterMs;
    const status = error.status;
    const code = error.code;
    return {
      category,
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
      ...(typeof retryAfterMs === 'number' && retryAfterMs >= 0 && Number.isFinite(retryAfterMs)
        ? { retryAfterMs: Math.ceil(retryAfterMs) }
        : {}),
      ...(typeof status === 'number' && Number.isInteger(status) ? { status } : {}),
      ...(typeof code === 'string' ? { code } : {}),
    };
  },
};
