import { headerOf } from './read.js';

/** IMF-fixdate, RFC 850 and asctime (RFC 9110 §5.6.7), and ISO 8601 with a time. */
const HTTP_DATE_FORMS = [
  String.raw`[A-Za-z]{3}, \d{1,2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} (?:GMT|UTC|[+-]\d{4})`,
  String.raw`[A-Za-z]{6,9}, \d{1,2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT`,
  String.raw`[A-Za-z]{3} [A-Za-z]{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2} \d{4}`,
  String.raw`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})`,
];
const HTTP_DATE = new RegExp(`^(?:${HTTP_DATE_FORMS.join('|')})$`);
const ASCTIME = new RegExp(`^${HTTP_DATE_FORMS[2]}$`);

/**
 * Parses `Retry-After` (delta-seconds or HTTP-date) into a delay in whole milliseconds,
 * rounded up so we never come back earlier than asked. Malformed values give undefined.
 */
/**
 * The current wall-clock time (epoch ms), or something that tells it when asked: the clock is
 * only read for an HTTP-date, so classifying a 503 without one never calls Date.now().
 */
export type WallTime = number | { readonly wallTime: number };

function wallTimeOf(wallTime: WallTime): number {
  return typeof wallTime === 'number' ? wallTime : wallTime.wallTime;
}

export function parseRetryAfter(value: string, wallTime: WallTime): number | undefined {
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) {
    const ms = Math.ceil(Number(text) * 1000);
    return Number.isFinite(ms) ? ms : undefined;
  }
  // Only the HTTP-date forms (and ISO 8601, which some servers send): V8's Date.parse is lenient
  // enough to read "soon 2" as a date in 2001, which would mean "retry now".
  if (!HTTP_DATE.test(text)) return undefined;
  // asctime carries no zone but means GMT; Date.parse would read it as local time.
  const at = Date.parse(ASCTIME.test(text) ? `${text} GMT` : text);
  if (!Number.isFinite(at)) return undefined;
  return Math.max(0, Math.ceil(at - wallTimeOf(wallTime)));
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
export function retryAfterFromHeaders(headers: unknown, wallTime: WallTime): number | undefined {
  if (headers === undefined || headers === null) return undefined;
  try {
    return readRetryAfter(headers, wallTime);
  } catch {
    // Headers whose accessors throw are as good as absent: the status still classifies the error.
    return undefined;
  }
}

function readRetryAfter(headers: unknown, wallTime: WallTime): number | undefined {
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
