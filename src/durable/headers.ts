import { ConfigError } from '../faults/errors.js';

/**
 * Job headers: a small string → string map that travels with a job from `enqueue` to every
 * run and into its dead letter — trace context (`traceparent`, `tracestate`), a tenant, a
 * correlation id. Stores keep them as JSON text (like payloads) and hand them back untouched.
 * They are bounded so that a job record stays small whatever a caller or a propagator adds.
 */

export type JobHeaders = Readonly<Record<string, string>>;

/** The most entries a job's headers may hold. */
export const MAX_HEADER_ENTRIES = 16;
/** The most characters of a job's headers as stored (JSON text). */
export const MAX_HEADERS_LENGTH = 4_096;
const NAME = /^[\x21-\x7e]{1,256}$/;

/**
 * Checks a headers map and returns its JSON text, or undefined for an empty map. Throws a
 * ConfigError naming `option` for anything else than printable-ASCII names mapped to strings,
 * more than MAX_HEADER_ENTRIES entries or more than MAX_HEADERS_LENGTH characters.
 */
export function headersText(option: string, headers: unknown): string | undefined {
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new ConfigError(option, headers, 'an object of header names to string values');
  }
  const proto = Object.getPrototypeOf(headers);
  if (proto !== Object.prototype && proto !== null)
    throw new ConfigError(option, headers, 'a plain object of header names to string values');
  const entries = Object.entries(headers);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_HEADER_ENTRIES)
    throw new ConfigError(
      option,
      `${entries.length} entries`,
      `at most ${MAX_HEADER_ENTRIES} headers`,
    );
  for (const [name, value] of entries) {
    if (!NAME.test(name))
      throw new ConfigError(
        `${option} name`,
        name,
        'printable ASCII without spaces, 1 to 256 characters',
      );
    if (typeof value !== 'string') throw new ConfigError(`${option}.${name}`, value, 'a string');
  }
  const text = JSON.stringify(headers);
  if (text.length > MAX_HEADERS_LENGTH)
    throw new ConfigError(
      option,
      `${text.length} characters`,
      `headers of at most ${MAX_HEADERS_LENGTH} characters as JSON`,
    );
  return text;
}

/** The headers of a stored job (JSON text) as a map; an empty map when there are none or the text is not a map of strings. */
export function parseHeaders(text: string | undefined): JobHeaders {
  if (text === undefined) return EMPTY;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return EMPTY;
    // Stored data is untrusted: keep only string values; fromEntries defines own properties, so a
    // `__proto__` name stays a plain entry and never sets a prototype.
    return Object.fromEntries(
      Object.entries(value).filter(
        (entry): entry is [string, string] => typeof entry[1] === 'string',
      ),
    );
  } catch {
    return EMPTY;
  }
}

const EMPTY: JobHeaders = Object.freeze({});
