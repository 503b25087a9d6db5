import { headerOf } from './read.js';

/**
 * Parses `Retry-After` (delta-seconds or HTTP-date) into a delay in whole milliseconds,
 * rounded up so we never come back earlier than asked. Malformed values give undefined.
 */
export function parseRetryAfter(value: string, wallTime: number): number | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.ceil(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  // An HTTP-date always names a day or month; a bare or signed number is not a date.
  if (!/[a-z]/i.test(text)) return undefined;
  const at = Date.parse(text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, Math.ceil(at - wallTime));
}

function parseMilliseconds(value: string): number | undefined {
  const text = value.trim();
  if (!/^\d+(\.\d+)?$/.test(text)) return undefined;
  const ms = Math.ceil(Number(text));
  return Number.isFinite(ms) ? ms : undefined;
}

/**
 * The delay a server asked for, from any of the headers services use for it:
 * `retry-after-ms` (milliseconds, most precise), `x-amz-retry-after` (milliseconds),
 * then the standard `retry-after`.
 */
export function retryAfterFromHeaders(headers: unknown, wallTime: number): number | undefined {
  if (headers === undefined || headers === null) return undefined;
  try {
    return readRetryAfter(headers, wallTime);
  } catch {
    // Headers whose accessors throw are as good as absent: the status still classifies the error.
    return undefined;
  }
}

function readRetryAfter(headers: unknown, wallTime: number): number | undefined {
  const ms = headerOf(headers, 'retry-after-ms');
  if (ms !== undefined) {
    const parsed = parseMilliseconds(ms);
    if (parsed !== undefined) return parsed;
  }
  const amz = headerOf(headers, 'x-amz-retry-after');
  if (amz !== undefined) {
    const parsed = parseMilliseconds(amz);
    if (parsed !== undefined) return parsed;
  }
  const standard = headerOf(headers, 'retry-after');
  return standard === undefined ? undefined : parseRetryAfter(standard, wallTime);
}
