import { scoped } from '../validate/scoped.js';
import { headersText } from './headers.js';
import { toJsonText } from './payload.js';
import type { EnqueueOptions, QueueOptions, DeadLetterFilter } from './queue.js';
import type { NewJob, RetentionBound, RetentionPolicy } from './store.js';

/**
 * What a queue checks of its input before anything reaches the store: enqueue options, dead
 * letter filters and the retention policy. Every error names the option from `queue`.
 */
const check = scoped('queue');

const ITEM_KEYS: readonly string[] = [
  'payload',
  'priority',
  'delayMs',
  'runAt',
  'idempotencyKey',
  'maxAttempts',
  'headers',
];
const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({
  completed: Object.freeze({ maxAgeMs: DAY_MS, maxCount: 10_000 }),
  dead: Object.freeze({ maxAgeMs: 30 * DAY_MS, maxCount: 100_000 }),
});

/** A dead-letter filter checked and turned into the store's query for `queue`. */
export function deadLetterQuery(queue: string, filter: DeadLetterFilter, now: number) {
  const opts = check.plainObject('filter', filter);
  check.knownKeys('filter', opts, ['category', 'olderThanMs', 'newerThanMs', 'limit']);
  return {
    queue,
    ...(filter.category === undefined
      ? {}
      : { category: check.category('category', filter.category) }),
    ...(filter.olderThanMs === undefined
      ? {}
      : { olderThan: now - check.nonNegativeNumber('olderThanMs', filter.olderThanMs) }),
    ...(filter.newerThanMs === undefined
      ? {}
      : { newerThan: now - check.nonNegativeNumber('newerThanMs', filter.newerThanMs) }),
    ...(filter.limit === undefined
      ? {}
      : { limit: check.nonNegativeInteger('limit', filter.limit) }),
  };
}

/** One enqueue's payload and options, checked and turned into the store's `NewJob` for `queue`. */
export function toNewJob(
  queue: string,
  item: EnqueueOptions & { readonly payload: unknown },
  index: number,
  count: number,
  now: number,
): NewJob {
  // Option names (`enqueue[3].delayMs` when the call held many items) are spelt out only for an error.
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    check.plainObject(itemName('items', index, count), item);
  for (const key of Object.keys(item))
    if (!ITEM_KEYS.includes(key))
      check.knownKeys(itemName('enqueue', index, count), item, ITEM_KEYS);
  const payload = toJsonText(item.payload, count === 1 ? 'payload' : `items[${index}].payload`);
  let runAt = now;
  if (item.delayMs !== undefined || item.runAt !== undefined)
    runAt = runAtOf(item, itemName('enqueue', index, count), now);
  const priority =
    item.priority === undefined
      ? 0
      : integer(`${itemName('enqueue', index, count)}.priority`, item.priority);
  const job: NewJob = { queue, payload, priority, runAt };
  if (item.idempotencyKey !== undefined) {
    if (typeof item.idempotencyKey !== 'string' || item.idempotencyKey.length === 0) {
      throw check.configError(
        `${itemName('enqueue', index, count)}.idempotencyKey`,
        item.idempotencyKey,
        'a non-empty string',
      );
    }
    (job as { idempotencyKey?: string }).idempotencyKey = item.idempotencyKey;
  }
  if (item.maxAttempts !== undefined) {
    (job as { maxAttempts?: number }).maxAttempts = check.positiveInteger(
      `${itemName('enqueue', index, count)}.maxAttempts`,
      item.maxAttempts,
    );
  }
  if (item.headers !== undefined) {
    const headers = headersText(`${itemName('enqueue', index, count)}.headers`, item.headers);
    if (headers !== undefined) (job as { headers?: string }).headers = headers;
  }
  return job;
}

/** `enqueue`, or `enqueue[3]` for the fourth of many items. */
function itemName(name: string, index: number, count: number): string {
  return count === 1 ? name : `${name}[${index}]`;
}

/** When a job given `delayMs` or `runAt` (not both) may first run. */
function runAtOf(item: EnqueueOptions, name: string, now: number): number {
  if (item.delayMs !== undefined && item.runAt !== undefined) {
    throw check.configError(`${name}.runAt`, item.runAt, 'either delayMs or runAt, not both');
  }
  if (item.delayMs !== undefined)
    return now + check.nonNegativeNumber(`${name}.delayMs`, item.delayMs);
  return toEpoch(`${name}.runAt`, item.runAt!);
}

export function resolveRetention(input: QueueOptions['retention']): RetentionPolicy {
  if (input === undefined) return DEFAULT_RETENTION;
  const opts = check.plainObject('retention', input);
  check.knownKeys('retention', opts, ['completed', 'dead']);
  const bound = (name: 'completed' | 'dead'): RetentionBound => {
    const given = input[name] ?? {};
    check.knownKeys(`retention.${name}`, check.plainObject(`retention.${name}`, given), [
      'maxAgeMs',
      'maxCount',
    ]);
    return {
      maxAgeMs: check.limit(
        `retention.${name}.maxAgeMs`,
        given.maxAgeMs ?? DEFAULT_RETENTION[name].maxAgeMs,
      ),
      maxCount: check.limit(
        `retention.${name}.maxCount`,
        given.maxCount ?? DEFAULT_RETENTION[name].maxCount,
      ),
    };
  };
  return { completed: bound('completed'), dead: bound('dead') };
}

export function toEpoch(option: string, value: number | Date): number {
  if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isNaN(ms)) throw check.configError(option, value, 'a valid Date');
    return ms;
  }
  return check.nonNegativeNumber(option, value);
}

function integer(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value))
    throw check.configError(option, value, 'a whole number');
  return value;
}
