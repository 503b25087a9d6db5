/**
 * Payloads and checkpoints are stored as JSON. `JSON.stringify` quietly drops or mangles what
 * it cannot represent (undefined, functions, NaN, Dates, Maps, class instances, cycles throw
 * without a path), so values are checked first and the first bad one is named by its path:
 * nothing half-right is ever stored.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Serialises `value` to JSON text, or throws a TypeError naming the path of the first bad value. */
export function toJsonText(value: unknown, root = 'payload'): string {
  checkJson(value, root, new Set());
  return JSON.stringify(value);
}

/** Parses JSON text written by `toJsonText`; undefined stays undefined. */
export function fromJsonText<T = unknown>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function checkJson(value: unknown, path: string, parents: Set<object>): void {
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
      fail(path, `${typeof value === 'function' ? 'a function' : typeof value} is not representable in JSON`);
  }
  if (value === null) return;
  const object = value as object;
  if (parents.has(object)) fail(path, 'a circular reference');
  parents.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) checkJson(object[i], `${path}[${i}]`, parents);
  } else {
    const proto = Object.getPrototypeOf(object);
    if (proto !== Object.prototype && proto !== null) {
      const name = (proto?.constructor?.name as string | undefined) ?? 'an object with a prototype';
      fail(path, `a ${name} is not plain JSON (convert it first, e.g. a Date to an ISO string)`);
    }
    for (const key of Object.keys(object)) {
      checkJson((object as Record<string, unknown>)[key], `${path}${propertyPath(key)}`, parents);
    }
  }
  parents.delete(object);
}

function propertyPath(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function fail(path: string, what: string): never {
  throw new TypeError(`${path} cannot be stored: ${what}`);
}
