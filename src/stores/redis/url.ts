/**
 * Redis URLs carry credentials (`redis://user:secret@host:6379`). Nothing faultline prints —
 * logs, errors, `toString()`, the CLI — may show them; these helpers strip them first.
 */

import { passwordOf, redactCredentials } from '../../config/redact.js';

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
export function redactError(error: unknown, secrets: readonly (string | null | undefined)[]): unknown {
  if (!(error instanceof Error)) return error;
  const message = redactCredentials(error.message, secrets);
  if (message !== error.message) error.message = message;
  if (typeof error.stack === 'string') error.stack = redactCredentials(error.stack, secrets);
  return error;
}
