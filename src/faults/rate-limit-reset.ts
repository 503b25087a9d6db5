import { headerOf } from './read.js';
import type { WallTime } from './retry-after.js';

/**
 * When a rate-limit window opens again, from the headers APIs use besides `Retry-After`:
 *
 * - `x-rate-limit-reset` (Twitter/X) and `x-ratelimit-reset` (GitHub, and many others): epoch
 *   seconds; a small value (below ~2001 as epoch) is read as delta seconds, as some APIs send;
 * - IETF `RateLimit-Reset` (draft ≤ 06): delta seconds;
 * - IETF `RateLimit` (draft ≥ 07: `"default";r=0;t=30`, or the older `limit=100, remaining=0, reset=30`):
 *   the `t` or `reset` parameter, delta seconds. With several policies, those with nothing
 *   remaining decide.
 *
 * Every form gives whole milliseconds rounded up, so the wait never ends before the window opens;
 * of several headers the longest wait wins. A value that is not a plain non-negative number is
 * ignored. Very long waits are not cut here: the plan's `maxWaitMs` and retry's
 * `maxRetryAfterMs` give up on them, exactly as for a long `Retry-After`.
 */

/** Values at or above this are epoch seconds (2001-09-09); below, delta seconds. */
const EPOCH_SECONDS_FROM = 1_000_000_000;
const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;
/** Headers longer than this are not parsed (a hostile server must not cost us time). */
const MAX_HEADER_LENGTH = 1_024;

export function rateLimitResetFromHeaders(
  headers: unknown,
  wallTime: WallTime,
): number | undefined {
  if (headers === undefined || headers === null) return undefined;
  try {
    let wait: number | undefined;
    for (const name of ['x-rate-limit-reset', 'x-ratelimit-reset', 'ratelimit-reset']) {
      wait = longest(wait, resetValue(headerOf(headers, name), wallTime));
    }
    return longest(wait, structuredReset(headerOf(headers, 'ratelimit')));
  } catch {
    // Headers whose accessors throw are as good as absent.
    return undefined;
  }
}

/**
 * True when the headers say no request is left in the window (`x-ratelimit-remaining: 0`,
 * `ratelimit-remaining: 0`, or `r=0` / `remaining=0` in `RateLimit`). GitHub answers an
 * exhausted quota with 403 and these headers, which makes that 403 a rate limit.
 */
export function quotaExhausted(headers: unknown): boolean {
  if (headers === undefined || headers === null) return false;
  try {
    for (const name of ['x-rate-limit-remaining', 'x-ratelimit-remaining', 'ratelimit-remaining']) {
      if (headerOf(headers, name)?.trim() === '0') return true;
    }
    const items = structuredItems(headerOf(headers, 'ratelimit'));
    return items.some((item) => item.remaining === 0);
  } catch {
    return false;
  }
}

function resetValue(text: string | undefined, wallTime: WallTime): number | undefined {
  const seconds = plainNumber(text);
  if (seconds === undefined) return undefined;
  if (seconds < EPOCH_SECONDS_FROM) return toMs(seconds);
  const now = typeof wallTime === 'number' ? wallTime : wallTime.wallTime;
  const ms = Math.max(0, Math.ceil(seconds * 1000 - now));
  return Number.isFinite(ms) ? ms : undefined;
}

interface StructuredItem {
  readonly remaining: number | undefined;
  readonly reset: number | undefined;
}

function structuredReset(text: string | undefined): number | undefined {
  const items = structuredItems(text);
  const exhausted = items.filter((item) => item.remaining === 0);
  let wait: number | undefined;
  for (const item of exhausted.length > 0 ? exhausted : items) {
    if (item.reset !== undefined) wait = longest(wait, toMs(item.reset));
  }
  return wait;
}

/**
 * Splits `RateLimit` into policies. The newer form separates parameters with `;` and policies
 * with `,`; the older form is one policy whose members are separated by `,`.
 */
function structuredItems(text: string | undefined): StructuredItem[] {
  if (text === undefined || text.length > MAX_HEADER_LENGTH) return [];
  const older = !text.includes(';');
  const groups = older ? [text] : text.split(',');
  return groups.map((group) => {
    const params = new Map<string, string>();
    for (const part of group.split(older ? ',' : ';')) {
      const eq = part.indexOf('=');
      if (eq > 0) params.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
    }
    return {
      remaining: plainNumber(params.get('r') ?? params.get('remaining')),
      reset: plainNumber(params.get('t') ?? params.get('reset')),
    };
  });
}

function plainNumber(text: string | undefined): number | undefined {
  if (text === undefined || text.length > MAX_HEADER_LENGTH) return undefined;
  const trimmed = text.trim();
  if (!PLAIN_NUMBER.test(trimmed)) return undefined;
  const n = Number(trimmed);
  return Number.isFinite(n) ? n : undefined;
}

function toMs(seconds: number): number | undefined {
  const ms = Math.ceil(seconds * 1000);
  return Number.isFinite(ms) ? ms : undefined;
}

function longest(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}
