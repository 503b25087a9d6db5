import * as check from '../validate/validate.js';
import { ConfigError } from '../faults/errors.js';
import type { FaultCategory } from '../faults/fault.js';
import type { CategoryCount, ThroughputRequest } from './store.js';

/**
 * Rules for reading dead letters and finished jobs that every store applies the same way
 * (text search, grouping, throughput buckets), kept in one place so the stores cannot drift.
 */

/** Lower-cases ASCII letters only: what SQLite's `lower()` does, so every store matches alike. */
export function asciiLower(text: string): string {
  return text.replace(/[A-Z]+/g, (letters) => letters.toLowerCase());
}

/** Whether a fault message contains `text`, ignoring the case of ASCII letters. */
export function messageContains(message: string, text: string | undefined): boolean {
  return text === undefined || asciiLower(message).includes(asciiLower(text));
}

/** Counts by category, largest first, then by name. */
export function sortedCategoryCounts(counts: ReadonlyMap<FaultCategory, number>): CategoryCount[] {
  return [...counts]
    .filter(([, count]) => count > 0)
    .map(([category, count]) => ({ category, count }))
    .sort(
      (a, b) =>
        b.count - a.count || (a.category < b.category ? -1 : a.category > b.category ? 1 : 0),
    );
}

/** The most buckets one throughput request may ask for (a day of minutes). */
export const MAX_BUCKETS = 1_440;

/** Checks a throughput request where it enters a store (ConfigError naming the field). */
export function checkThroughputRequest(request: ThroughputRequest): ThroughputRequest {
  check.plainObject('request', request);
  if (typeof request.since !== 'number' || !Number.isSafeInteger(request.since))
    throw new ConfigError('since', request.since, 'epoch ms (an integer)');
  check.positiveInteger('bucketMs', request.bucketMs);
  check.positiveInteger('buckets', request.buckets);
  if (request.buckets > MAX_BUCKETS)
    throw new ConfigError('buckets', request.buckets, `at most ${MAX_BUCKETS}`);
  if (request.queue !== undefined && typeof request.queue !== 'string')
    throw new ConfigError('queue', request.queue, 'a queue name');
  return request;
}

/** The bucket of a finish time, or -1 when it falls outside the request's range. */
export function bucketOf(request: ThroughputRequest, finishedAt: number): number {
  const index = Math.floor((finishedAt - request.since) / request.bucketMs);
  return index >= 0 && index < request.buckets ? index : -1;
}
