/**
 * Redis URLs carry credentials (`redis://user:secret@host:6379`). Nothing faultline prints —
 * logs, errors, `toString()`, the CLI — may show them; these helpers strip them first.
 */

import { passwordOf, redactCredentials } from '../../config/redact.js';
import { ConfigError } from '../../faults/errors.js';

export { passwordOf, redactCredentials };

/**
 * Returns the URL with its user name and password replaced by `***`
 * (`redis://***@cache:6379/0`). A URL without credentials comes back unchanged;
 * a string that is not a URL is still scrubbed of anything that looks like `user:pass@`.
 */
export function redactRedisUrl(url: string): string {
  return redactCredentials(url);
}

/** The parts of a Redis URL that are safe to show: scheme, host, port and database. */
export function describeRedisTarget(url: string): string {
  try {
    const parsed = new URL(url);
    const db = parsed.pathname.length > 1 ? parsed.pathname : '';
    return `${parsed.protocol}//${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${db}`;
  } catch {
    return redactCredentials(url);
  }
}

/**
 * Re-throws an error with credentials scrubbed from its message and stack. Used around every
 * place where a client library might echo connection details.
 */
export function redactError(
  error: unknown,
  secrets: readonly (string | null | undefined)[],
): unknown {
  if (!(error instanceof Error)) return error;
  const message = redactCredentials(error.message, secrets);
  if (message !== error.message) error.message = message;
  if (typeof error.stack === 'string') error.stack = redactCredentials(error.stack, secrets);
  return error;
}

/** The parts of a Redis URL the store needs to name itself and check the database. */
export interface ParsedRedisUrl {
  readonly host: string;
  readonly port: number;
  readonly database: number;
}

/**
 * Parses a `redis://` URL, or throws a ConfigError naming `url` with the credentials masked.
 * Node's own `ERR_INVALID_URL` (a bad port, say) keeps the whole URL, password included, in an
 * enumerable `input` field, so it never escapes; nor does a URL with no host (ioredis would
 * quietly use localhost) or a database path that is not a number (it would quietly use 0).
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const shown = redactCredentials(url);
  let parsed: URL;
  try {
    parsed = new URL(url.replace(/^valkey(s?):/, 'redis$1:'));
  } catch {
    throw new ConfigError(
      'url',
      shown,
      'a valid URL: redis://host:port/db, with user:password@ before the host when needed (a port from 1 to 65535; percent-encode @ : / in a password)',
    );
  }
  if (parsed.hostname === '')
    throw new ConfigError('url', shown, 'a redis:// URL with a host, e.g. redis://127.0.0.1:6379');
  const path = parsed.pathname;
  if (path !== '' && path !== '/' && !/^\/\d{1,9}$/.test(path)) {
    throw new ConfigError(
      'url',
      shown,
      'a database number after the host, e.g. redis://127.0.0.1:6379/0',
    );
  }
  const database = path.length > 1 ? Number(path.slice(1)) : 0;
  const port = parsed.port === '' ? 6379 : Number(parsed.port);
  return { host: parsed.hostname, port, database };
}
