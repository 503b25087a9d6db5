/**
 * Payloads and checkpoints are stored as JSON. `JSON.stringify` quietly drops or mangles what
 * it cannot represent (undefined, functions, NaN, Dates, Maps, class instances, cycles throw
 * without a path), so values are checked first and the first bad one is named by its path:
 * nothing half-right is ever stored.
 */

/**
 * Deepest nesting accepted. Deeper values would overflow the stack in `JSON.stringify` (and in
 * this check) with a RangeError that names nothing; no real payload comes close.
 */
export const MAX_JSON_DEPTH = 1_000;

export type JsonValue =
  | null
  | boolean
  | number
  | string
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Serialises `value` to JSON text, or throws a TypeError naming the path of the first bad value. */
export function toJsonText(value: unknown, root = 'payload'): string {
  checkJson(value, root, new Set(), 0);
  return JSON.stringify(value);
}

/** Parses JSON text written by `toJsonText`; undefined stays undefined. */
export function fromJsonText<T = unknown>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function checkJson(value: unknown, path: string, parents: Set<object>, depth: number): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, `${value} is not representable in JSON`);
      return;
    case 'object':
      break;
    default:
      fail(
        path,
        `${typeof value === 'function' ? 'a function' : typeof value} is not representable in JSON`,
      );
  }
  if (value === null) return;
  if (depth >= MAX_JSON_DEPTH)
    fail(shortPath(path), `nested more than ${MAX_JSON_DEPTH} levels deep`);
  const object = value as object;
  if (parents.has(object)) fail(path, 'a circular reference');
  parents.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++)
      checkJson(object[i], `${path}[${i}]`, parents, depth + 1);
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor?.name as string | undefined) ?? 'an object with a prototype';
      fail(path, `a ${name} is not plain JSON (convert it first, e.g. a Date to an ISO string)`);
    }
    for (const key of Object.keys(object)) {
      checkJson(
        (object as Record<string, unknown>)[key],
        `${path}${propertyPath(key)}`,
        parents,
        depth + 1,
      );
    }
  }
  parents.delete(object);
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** A path a thousand levels long is cut in the middle, so the message stays readable. */
function shortPath(path: string): string {
  return path.length <= 200 ? path : `${path.slice(0, 100)}…${path.slice(-100)}`;
}

function fail(path: string, what: string): never {
  throw new TypeError(`${path} cannot be stored: ${what}`);
}
