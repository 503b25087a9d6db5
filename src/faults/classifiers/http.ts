import type { Classifier, FaultCategory, FaultHint } from '../fault.js';
import { type Bag, isObject, numberProp } from '../read.js';
import { quotaExhausted, rateLimitResetFromHeaders } from '../rate-limit-reset.js';
import { retryAfterFromHeaders } from '../retry-after.js';

/** Category of an HTTP error status; undefined for statuses that are not errors. */
export function categoryOfStatus(status: number): FaultCategory | undefined {
  switch (status) {
    case 401:
    case 407:
    case 511:
      return 'auth';
    case 408:
      return 'timeout';
    case 409:
      return 'conflict';
    case 429:
      return 'rate_limit';
    case 400:
    case 422:
      return 'validation';
    case 425: // Too Early: the same request will be accepted later.
      return 'unavailable';
    case 501:
    case 505:
      return 'permanent';
    case 507:
      return 'resource';
  }
  if (status >= 500 && status <= 599) return 'unavailable';
  if (status >= 400 && status <= 499) return 'permanent';
  return undefined;
}

function validStatus(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 400 && value <= 599
    ? value
    : undefined;
}

/**
 * Finds the status and headers in the shapes HTTP clients throw:
 * a fetch `Response`; `{ status }` / `{ statusCode }` (http-errors, undici, node http);
 * `{ response: { status | statusCode, headers } }` (axios, got, ky).
 */
function findStatus(error: Bag): { status: number; headers: unknown } | undefined {
  const own = validStatus(error.status) ?? validStatus(error.statusCode);
  if (own !== undefined) return { status: own, headers: error.headers };
  const response = error.response;
  if (isObject(response)) {
    const status = validStatus(response.status) ?? validStatus(response.statusCode);
    if (status !== undefined) return { status, headers: response.headers };
  }
  return undefined;
}

export const httpClassifier: Classifier = {
  name: 'http',
  classify(error, context): FaultHint | undefined {
    if (!isObject(error)) return undefined;
    const found = findStatus(error);
    if (!found) return undefined;
    let category = categoryOfStatus(found.status)!;
    // GitHub answers a spent quota with 403 and `x-ratelimit-remaining: 0`: a rate limit, not a refusal.
    if (found.status === 403 && quotaExhausted(found.headers)) category = 'rate_limit';
    let retryAfterMs =
      retryAfterFromHeaders(found.headers, context) ?? numberProp(error, 'retryAfterMs');
    // Reset headers come with every answer of some APIs; they say when to come back only for a rate limit.
    if (category === 'rate_limit') {
      const resetMs = rateLimitResetFromHeaders(found.headers, context);
      if (resetMs !== undefined && (retryAfterMs === undefined || resetMs > retryAfterMs))
        retryAfterMs = resetMs;
    }
    const statusText =
      typeof error.statusText === 'string' && error.statusText ? ` ${error.statusText}` : '';
    const message =
      typeof error.message === 'string' && error.message !== ''
        ? error.message
        : `HTTP ${found.status}${statusText}`;
    return retryAfterMs === undefined
      ? { category, status: found.status, message }
      : { category, status: found.status, message, retryAfterMs };
  },
};
