/**
 * Defensive property access for classifiers. A thrown value can be anything: a proxy, an
 * object whose getters throw, a frozen string. Classifiers read through these helpers and
 * the classify chain catches whatever still escapes.
 */

export type Bag = Record<PropertyKey, unknown>;

export function isObject(value: unknown): value is Bag {
  return (typeof value === 'object' && value !== null) || typeof value === 'function';
}

export function stringProp(value: Bag, key: string): string | undefined {
  const v = value[key];
  return typeof v === 'string' ? v : undefined;
}

export function numberProp(value: Bag, key: string): number | undefined {
  const v = value[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/**
 * The class of an error: its `name`, or, when that is the inherited 'Error', its constructor's
 * name. node-redis defines `class ErrorReply extends Error {}` and friends without setting `name`.
 */
export function errorClassName(error: Bag): string | undefined {
  const name = error.name;
  if (typeof name === 'string' && name !== 'Error') return name;
  const ctor = error.constructor;
  const ctorName = typeof ctor === 'function' ? ctor.name : undefined;
  if (typeof ctorName === 'string' && ctorName !== '') return ctorName;
  return typeof name === 'string' ? name : undefined;
}

/** A human-readable message for any thrown value; never throws. */
export function messageOf(value: unknown): string {
  try {
    if (typeof value === 'string') return value === '' ? 'an empty string was thrown' : value;
    if (isObject(value)) {
      const message = value.message;
      if (typeof message === 'string' && message !== '') return message;
      const name = value.name;
      if (typeof name === 'string' && name !== '') return name;
      return Object.prototype.toString.call(value);
    }
    if (value === undefined) return 'undefined was thrown';
    if (value === null) return 'null was thrown';
    return String(value);
  } catch {
    return 'an unreadable value was thrown';
  }
}

/**
 * Reads one header from the shapes HTTP clients use: a fetch `Headers` (or anything with
 * `get`), or a plain object with lower-case or canonical keys (axios, got, node http).
 */
export function headerOf(headers: unknown, lowerName: string): string | undefined {
  if (!isObject(headers)) return undefined;
  const get = headers.get;
  if (typeof get === 'function') {
    const v = get.call(headers, lowerName);
    return typeof v === 'string' ? v : undefined;
  }
  let v = headers[lowerName];
  if (v === undefined) v = headers[canonicalName(lowerName)];
  if (Array.isArray(v)) v = v[0];
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? v : undefined;
}

// `retry-after` → `Retry-After`; cached, since the same few names are asked for on every error.
const canonicalNames = new Map<string, string>();
function canonicalName(lowerName: string): string {
  let name = canonicalNames.get(lowerName);
  if (name === undefined) {
    name = lowerName.replace(
      /(^|-)([a-z])/g,
      (_m, dash: string, c: string) => dash + c.toUpperCase(),
    );
    if (canonicalNames.size < 64) canonicalNames.set(lowerName, name);
  }
  return name;
}
