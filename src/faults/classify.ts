import { abortClassifier } from './classifiers/abort.js';
import { awsClassifier } from './classifiers/aws.js';
import { declaredClassifier } from './classifiers/declared.js';
import { errnoClassifier } from './classifiers/errno.js';
import { httpClassifier } from './classifiers/http.js';
import { messageClassifier } from './classifiers/message.js';
import { postgresClassifier } from './classifiers/postgres.js';
import { redisClassifier } from './classifiers/redis.js';
import { sqliteClassifier } from './classifiers/sqlite.js';
import { ConfigError } from './errors.js';
import {
  type Classifier,
  type ClassifyContext,
  type Fault,
  type FaultHint,
  isFaultCategory,
  isRetryableByDefault,
} from './fault.js';
import { type FaultJson, faultToJson } from './fault-json.js';
import { isObject, messageOf } from './read.js';
import { suggestionsFor } from './suggestions.js';

/**
 * The built-in classifiers, most specific first: declared categories, then the shapes of
 * particular clients (AWS before plain HTTP, since AWS errors also carry a status), then the
 * generic ones.
 */
export const builtinClassifiers: readonly Classifier[] = Object.freeze([
  declaredClassifier,
  awsClassifier,
  httpClassifier,
  postgresClassifier,
  sqliteClassifier,
  redisClassifier,
  errnoClassifier,
  abortClassifier,
]);

/**
 * Asked only when no classifier recognised the error or any of its causes: it reads the message
 * for well-known phrases, so words never override a status or a code.
 */
export const lastResortClassifiers: readonly Classifier[] = Object.freeze([messageClassifier]);

const BUILTIN: ReadonlySet<Classifier> = new Set([...builtinClassifiers, ...lastResortClassifiers]);

/** How deep `cause` chains and `AggregateError.errors` are followed. */
const MAX_VISITS = 16;

export type ClassifyFunction = (error: unknown) => Fault;

export interface ClassifierOptions {
  /**
   * Run before the built-ins; the first to recognise a value wins.
   * @defaultValue none: the built-ins only
   */
  readonly classifiers?: readonly (Classifier | Classifier['classify'])[];
  /**
   * Wall clock for `Retry-After` dates.
   * @defaultValue `Date.now`
   */
  readonly wallTime?: () => number;
  /**
   * Classify by well-known phrases of the message ("quota exceeded", "timed out",...) when
   * nothing else recognised the error.
   * @defaultValue true
   */
  readonly messages?: boolean;
}

/**
 * Builds a classify function with the user's classifiers first. The returned function never
 * throws: whatever was thrown becomes a Fault (`unknown` when nothing recognises it).
 */
export function createClassifier(options: ClassifierOptions = {}): ClassifyFunction {
  const raw: unknown = options; // checked as unknown, so the guard does not narrow `options`
  if (!isObject(raw) || Array.isArray(raw)) throw new ConfigError('options', raw, 'an object');
  for (const key of Object.keys(options)) {
    if (key !== 'classifiers' && key !== 'wallTime' && key !== 'messages') {
      throw new ConfigError(
        key,
        options[key as keyof ClassifierOptions],
        'no such option; known: classifiers, wallTime, messages',
      );
    }
  }
  // Checked as unknown too: Array.isArray on a readonly array type would widen it to any[].
  const classifiers: unknown = options.classifiers;
  const wallTimeOption: unknown = options.wallTime;
  if (classifiers !== undefined && !Array.isArray(classifiers)) {
    throw new ConfigError('classifiers', classifiers, 'an array of classifiers');
  }
  if (wallTimeOption !== undefined && typeof wallTimeOption !== 'function') {
    throw new ConfigError('wallTime', wallTimeOption, 'a function returning epoch ms');
  }
  const user = (options.classifiers ?? []).map((c, i): Classifier => {
    if (typeof c === 'function') return { name: c.name || `classifier[${i}]`, classify: c };
    if (isObject(c) && typeof c.classify === 'function') return c;
    throw new ConfigError(
      `classifiers[${i}]`,
      c,
      'a function or an object with a classify(error) method',
    );
  });
  const chain =
    user.length === 0 ? builtinClassifiers : Object.freeze([...user, ...builtinClassifiers]);
  if (options.messages !== undefined && typeof options.messages !== 'boolean') {
    throw new ConfigError('messages', options.messages, 'true or false');
  }
  const lastResort = options.messages === false ? [] : lastResortClassifiers;
  const wallTime = options.wallTime ?? Date.now;
  return (error) => classifyWith(chain, lastResort, error, wallTime);
}

// The wall clock is read only when a classifier needs it (an HTTP-date Retry-After).
const systemContext: ClassifyContext = {
  get wallTime() {
    return Date.now();
  },
};

/** Classifies any thrown value with the built-in classifiers. Never throws. */
export function classify(error: unknown): Fault {
  return classifyValue(builtinClassifiers, lastResortClassifiers, error, systemContext);
}

function classifyWith(
  chain: readonly Classifier[],
  lastResort: readonly Classifier[],
  error: unknown,
  wallTime: () => number,
): Fault {
  return classifyValue(chain, lastResort, error, {
    get wallTime() {
      return wallTime();
    },
  });
}

/**
 * Asks one classifier about one value. A classifier that throws, or answers with something
 * that is not a usable hint (null, a hostile object, a category that does not exist), simply
 * does not match: classify must never throw, whatever it is given and whoever wrote the classifier.
 */
function ask(
  classifier: Classifier,
  value: unknown,
  context: ClassifyContext,
): FaultHint | undefined {
  try {
    const hint = classifier.classify(value, context);
    if (!isObject(hint)) return undefined;
    if (BUILTIN.has(classifier)) return hint as FaultHint; // ours are well-formed: no copy on the hot path
    const category = hint.category;
    if (!isFaultCategory(category)) return undefined;
    // Copy the fields once, checking their types, so a getter cannot change its answer later.
    const { retryable, retryAfterMs, status, code, message, suggestions } = hint;
    return {
      category,
      ...(typeof retryable === 'boolean' ? { retryable } : {}),
      ...(typeof retryAfterMs === 'number' ? { retryAfterMs } : {}),
      ...(typeof status === 'number' && Number.isInteger(status) ? { status } : {}),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof message === 'string' && message !== '' ? { message } : {}),
      ...(isStringArray(suggestions) ? { suggestions: Object.freeze([...suggestions]) } : {}),
    };
  } catch {
    return undefined;
  }
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.length > 0 && value.every((s) => typeof s === 'string');
}

function classifyValue(
  chain: readonly Classifier[],
  lastResort: readonly Classifier[],
  error: unknown,
  context: ClassifyContext,
): Fault {
  // Already a fault (classified once, passed along): keep it.
  if (isFault(error)) return error;
  let current: unknown = error;
  let pending: unknown[] | undefined;
  let seen: Set<unknown> | undefined;
  // The values looked at, in order, for the last-resort pass (allocated only when there are causes).
  let visited: unknown[] | undefined;
  for (let visits = 0; visits < MAX_VISITS; visits++) {
    if (visits > 0) {
      visited ??= [error];
      visited.push(current);
    }
    for (let i = 0; i < chain.length; i++) {
      const classifier = chain[i]!;
      const hint = ask(classifier, current, context);
      if (hint !== undefined) return toFault(hint, error, current, classifier.name);
    }
    // Nothing matched this value: look at what caused it.
    const next = nextCauses(current);
    if (next !== undefined) {
      seen ??= new Set([error]);
      for (const candidate of next) {
        if (candidate !== undefined && candidate !== null && !seen.has(candidate)) {
          seen.add(candidate);
          pending ??= [];
          pending.push(candidate);
        }
      }
    }
    if (pending === undefined || pending.length === 0) break;
    current = pending.shift();
  }
  for (const classifier of lastResort) {
    for (const value of visited ?? [error]) {
      const hint = ask(classifier, value, context);
      if (hint !== undefined) return toFault(hint, error, value, classifier.name);
    }
  }
  return toFault({ category: 'unknown' }, error, error, 'none');
}

function nextCauses(value: unknown): unknown[] | undefined {
  if (!isObject(value)) return undefined;
  try {
    const cause = value.cause;
    const errors = value.errors;
    if (Array.isArray(errors))
      return cause === undefined
        ? errors.slice(0, MAX_VISITS)
        : [cause, ...errors.slice(0, MAX_VISITS)];
    return cause === undefined ? undefined : [cause];
  } catch {
    return undefined;
  }
}

function toFault(hint: FaultHint, error: unknown, matched: unknown, source: string): Fault {
  const category = hint.category;
  const top = messageOf(error);
  let message = hint.message ?? top;
  if (matched !== error && hint.message === undefined) {
    const inner = messageOf(matched);
    if (inner !== top) message = `${top}: ${inner}`;
  }
  const retryAfterMs =
    typeof hint.retryAfterMs === 'number' &&
    hint.retryAfterMs >= 0 &&
    Number.isFinite(hint.retryAfterMs)
      ? Math.ceil(hint.retryAfterMs)
      : undefined;
  return new ClassifiedFault(
    category,
    typeof hint.retryable === 'boolean' ? hint.retryable : isRetryableByDefault(category),
    message,
    error,
    hint.suggestions ?? suggestionsFor(category, hint.code, hint.status),
    source,
    retryAfterMs,
    hint.status,
    hint.code,
  );
}

/**
 * The one concrete Fault. A class (rather than a literal) so that a fault passed along and
 * classified again is recognised and kept as it is. Optional fields are only set when known,
 * so a fault serialises to JSON without `undefined` noise; `toJSON` makes that total.
 */
class ClassifiedFault implements Fault {
  declare readonly retryAfterMs?: number;
  declare readonly status?: number;
  declare readonly code?: string;
  constructor(
    readonly category: Fault['category'],
    readonly retryable: boolean,
    readonly message: string,
    readonly cause: unknown,
    readonly suggestions: readonly string[],
    readonly source: string,
    retryAfterMs: number | undefined,
    status: number | undefined,
    code: string | undefined,
  ) {
    const self = this as { retryAfterMs?: number; status?: number; code?: string };
    if (retryAfterMs !== undefined) self.retryAfterMs = retryAfterMs;
    if (status !== undefined) self.status = status;
    if (code !== undefined) self.code = code;
  }

  /** Never throws: the cause is described, not serialised whole (see fault-json.ts). */
  toJSON(): FaultJson {
    return faultToJson(this);
  }
}

/** True for a value that `classify` produced. */
export function isFault(value: unknown): value is Fault {
  try {
    return value instanceof ClassifiedFault;
  } catch {
    return false; // instanceof runs a proxy's getPrototypeOf trap, which may throw (or be revoked).
  }
}
