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
  checkJson(value, { root, keys: [], parents: new Set() });
  return JSON.stringify(value);
}

/** Parses JSON text written by `toJsonText`; undefined stays undefined. */
export function fromJsonText<T = unknown>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

/**
 * Where the walk is: the keys from the root down (the path is spelt out only when a value
 * fails, so a good payload costs no string building) and the objects open above it.
 */
interface Walk {
  readonly root: string;
  readonly keys: (string | number)[];
  readonly parents: Set<object>;
}

function checkJson(value: unknown, walk: Walk): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(walk, `${value} is not representable in JSON`);
      return;
    case 'object':
      break;
    default:
      fail(
        walk,
        `${typeof value === 'function' ? 'a function' : typeof value} is not representable in JSON`,
      );
  }
  if (value === null) return;
  if (walk.keys.length >= MAX_JSON_DEPTH)
    fail(walk, `nested more than ${MAX_JSON_DEPTH} levels deep`);
  const object = value as object;
  if (walk.parents.has(object)) fail(walk, 'a circular reference');
  walk.parents.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) descend(object[i], i, walk);
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor?.name as string | undefined) ?? 'an object with a prototype';
      fail(walk, `a ${name} is not plain JSON (convert it first, e.g. a Date to an ISO string)`);
    }
    for (const key of Object.keys(object))
      descend((object as Record<string, unknown>)[key], key, walk);
  }
  walk.parents.delete(object);
}

function descend(value: unknown, key: string | number, walk: Walk): void {
  walk.keys.push(key);
  checkJson(value, walk);
  walk.keys.pop();
}

/** `payload.items[2]["a b"]`; a path a thousand levels long is cut in the middle to stay readable. */
function pathOf(walk: Walk): string {
  const path =
    walk.root +
    walk.keys
      .map((key) =>
        typeof key === 'number'
          ? `[${key}]`
          : /^[A-Za-z_$][\w$]*$/.test(key)
            ? `.${key}`
            : `[${JSON.stringify(key)}]`,
      )
      .join('');
  return path.length <= 200 ? path : `${path.slice(0, 100)}…${path.slice(-100)}`;
}

function fail(walk: Walk, what: string): never {
  throw new TypeError(`${pathOf(walk)} cannot be stored: ${what}`);
}
