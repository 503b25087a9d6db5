import type { DeadLetterCursor, DeadLetterQuery } from '../durable/store.js';
import { FAULT_CATEGORIES, type FaultCategory, isFaultCategory } from '../faults/fault.js';
import { BadRequest } from './errors.js';

/**
 * The dead-letter filters of a page, read from its query string (and written back into links
 * and forms). Bad values are refused with a message, never guessed.
 */
export interface DeadFilters {
  readonly queue?: string;
  readonly category?: FaultCategory;
  /** Key of AGES: dead within that long. */
  readonly age?: string;
  readonly text?: string;
  /** Only letters dead at or after this time: an action's preview pins the age filter's start here. */
  readonly since?: number;
  /** Only letters dead at or before this time: an action's preview pins it, so a later death is not touched. */
  readonly until?: number;
}

export const AGES: Readonly<Record<string, { label: string; ms: number }>> = {
  '15m': { label: 'last 15 minutes', ms: 15 * 60_000 },
  '1h': { label: 'last hour', ms: 3_600_000 },
  '6h': { label: 'last 6 hours', ms: 6 * 3_600_000 },
  '24h': { label: 'last 24 hours', ms: 86_400_000 },
  '7d': { label: 'last 7 days', ms: 7 * 86_400_000 },
};

export const CATEGORIES = FAULT_CATEGORIES;

const MAX_TEXT = 200;
const MAX_NAME = 500;

function single(params: URLSearchParams, name: string, max: number): string | undefined {
  const value = params.get(name);
  if (value === null || value === '') return undefined;
  if (value.length > max) throw new BadRequest(`${name} is longer than ${max} characters`);
  return value;
}

function epochMs(params: URLSearchParams, name: string): number | undefined {
  const value = single(params, name, 20);
  if (value === undefined) return undefined;
  if (!/^\d{1,16}$/.test(value)) throw new BadRequest(`${name} must be epoch milliseconds`);
  return Number(value);
}

export function readFilters(params: URLSearchParams): DeadFilters {
  const category = single(params, 'category', 40);
  if (category !== undefined && !isFaultCategory(category))
    throw new BadRequest(`category must be one of ${CATEGORIES.join(', ')}`);
  const age = single(params, 'age', 10);
  if (age !== undefined && !(age in AGES))
    throw new BadRequest(`age must be one of ${Object.keys(AGES).join(', ')}`);
  const queue = single(params, 'queue', MAX_NAME);
  const text = single(params, 'text', MAX_TEXT);
  const until = epochMs(params, 'until');
  const since = epochMs(params, 'since');
  return {
    ...(queue === undefined ? {} : { queue }),
    ...(category === undefined ? {} : { category }),
    ...(age === undefined ? {} : { age }),
    ...(text === undefined ? {} : { text }),
    ...(since === undefined ? {} : { since }),
    ...(until === undefined ? {} : { until }),
  };
}

/** The keyset cursor of a page (`beforeAt`, `beforeId`), when it is not the first. */
export function readCursor(params: URLSearchParams): DeadLetterCursor | undefined {
  const deadAt = epochMs(params, 'beforeAt');
  const id = single(params, 'beforeId', 200);
  if (deadAt === undefined || id === undefined) return undefined;
  return { deadAt, id };
}

export function hasFilter(filters: DeadFilters): boolean {
  return (
    filters.queue !== undefined ||
    filters.category !== undefined ||
    filters.age !== undefined ||
    filters.text !== undefined
  );
}

/** The store query of the filters at `now`. */
export function toQuery(filters: DeadFilters, now: number): DeadLetterQuery {
  return {
    ...(filters.queue === undefined ? {} : { queue: filters.queue }),
    ...(filters.category === undefined ? {} : { category: filters.category }),
    ...(filters.since !== undefined
      ? { newerThan: filters.since }
      : filters.age === undefined
        ? {}
        : { newerThan: now - AGES[filters.age]!.ms }),
    ...(filters.text === undefined ? {} : { text: filters.text }),
    ...(filters.until === undefined ? {} : { olderThan: filters.until }),
  };
}

/** The filters as query-string pairs (for links and hidden form fields). */
export function filterParams(filters: DeadFilters): [string, string][] {
  const pairs: [string, string][] = [];
  if (filters.queue !== undefined) pairs.push(['queue', filters.queue]);
  if (filters.category !== undefined) pairs.push(['category', filters.category]);
  if (filters.age !== undefined) pairs.push(['age', filters.age]);
  if (filters.text !== undefined) pairs.push(['text', filters.text]);
  if (filters.since !== undefined) pairs.push(['since', String(filters.since)]);
  if (filters.until !== undefined) pairs.push(['until', String(filters.until)]);
  return pairs;
}

/** The filters with the action's time range fixed at `now`: what a preview shows is what the action touches (or fewer). */
export function pinned(filters: DeadFilters, now: number): DeadFilters {
  const since =
    filters.since ?? (filters.age === undefined ? undefined : now - AGES[filters.age]!.ms);
  return { ...filters, ...(since === undefined ? {} : { since }), until: filters.until ?? now };
}

/** A short description of the filters for headings and confirmations. */
export function describeFilters(filters: DeadFilters): string {
  const parts: string[] = [];
  if (filters.queue !== undefined) parts.push(`queue ${JSON.stringify(filters.queue)}`);
  if (filters.category !== undefined) parts.push(`category ${filters.category}`);
  if (filters.age !== undefined) parts.push(`dead in the ${AGES[filters.age]!.label}`);
  if (filters.text !== undefined) parts.push(`message contains ${JSON.stringify(filters.text)}`);
  return parts.length === 0 ? 'all dead letters' : parts.join(', ');
}
