/**
 * A fault is a thrown value after classification: what kind of failure it was, whether
 * trying again can help, how long the other side asked us to wait, and what a person can do.
 */
export const FAULT_CATEGORIES = [
  'network',
  'timeout',
  'rate_limit',
  'unavailable',
  'auth',
  'permanent',
  'validation',
  'conflict',
  'resource',
  'cancelled',
  'unknown',
] as const;

export type FaultCategory = (typeof FAULT_CATEGORIES)[number];

const CATEGORY_SET: ReadonlySet<string> = new Set(FAULT_CATEGORIES);

/** True for one of the FAULT_CATEGORIES names. */
export function isFaultCategory(value: unknown): value is FaultCategory {
  return typeof value === 'string' && CATEGORY_SET.has(value);
}

export interface Fault {
  readonly category: FaultCategory;
  /** Whether the same operation may succeed if tried again unchanged. */
  readonly retryable: boolean;
  /** How long the other side asked us to wait before trying again, in ms (never negative). */
  readonly retryAfterMs?: number;
  /** HTTP status, when there was one. */
  readonly status?: number;
  /** A machine-readable code: errno (`ECONNRESET`), SQLSTATE, SQLite or Redis code, AWS error name. */
  readonly code?: string;
  readonly message: string;
  /** The value that was thrown, untouched. */
  readonly cause: unknown;
  /** What a person can do about it, most specific first. */
  readonly suggestions: readonly string[];
  /** Which classifier recognised it (`http`, `errno`, `postgres`, a user classifier's name, ...). */
  readonly source: string;
}

/** What a classifier says about an error; everything but the category is optional. */
export interface FaultHint {
  readonly category: FaultCategory;
  readonly retryable?: boolean;
  readonly retryAfterMs?: number;
  readonly status?: number;
  readonly code?: string;
  readonly message?: string;
  readonly suggestions?: readonly string[];
}

/**
 * A classifier looks at one value (the thrown value or one of its causes) and either
 * recognises it or returns undefined so that the next classifier is asked.
 */
export interface Classifier {
  readonly name: string;
  classify(error: unknown, context: ClassifyContext): FaultHint | undefined;
}

export interface ClassifyContext {
  /** Wall-clock time in epoch ms, used to turn an HTTP-date `Retry-After` into a delay. */
  readonly wallTime: number;
}

/** Categories for which trying again can help, unless a classifier says otherwise. */
const RETRYABLE_BY_DEFAULT: Readonly<Record<FaultCategory, boolean>> = {
  network: true,
  timeout: true,
  rate_limit: true,
  unavailable: true,
  conflict: true,
  unknown: true,
  auth: false,
  permanent: false,
  validation: false,
  resource: false,
  cancelled: false,
};

/** Whether a category is retryable when no classifier says otherwise. */
export function isRetryableByDefault(category: FaultCategory): boolean {
  return RETRYABLE_BY_DEFAULT[category];
}
