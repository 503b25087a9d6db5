/**
 * Redis URLs carry credentials (`redis://user:secret@host:6379`). Nothing lifeline prints —
 * logs, errors, `toString()`, the CLI — may show them; these helpers strip them first.
 */

const MASK = '***';

// scheme://userinfo@  — userinfo is anything up to the last '@' before the host part.
const URL_WITH_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;

/**
 * Returns the URL with its user name and password replaced by `***`
 * (`redis://***@cache:6379/0`). A URL without credentials comes back unchanged;
 * a string that is not a URL is still scrubbed of anything that looks like `user:pass@`.
 */
export function redactRedisUrl(url: string): string {
  return redactCredentials(url);
}

/**
 * Scrubs every `scheme://user:pass@` occurrence in free text (an error message, a log line),
 * plus any extra secrets given (e.g. a password passed as an option rather than in the URL).
 */
export function redactCredentials(text: string, secrets: readonly (string | null | undefined)[] = []): string {
  let out = text.replace(URL_WITH_USERINFO, (_match, scheme: string) => `${scheme}${MASK}@`);
  for (const secret of secrets) {
    // Very short secrets would mask innocent text; they are masked only inside URLs above.
    if (typeof secret === 'string' && secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out;
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

/** The password in a Redis URL, if any, so that error text can be scrubbed of it too. */
export function passwordOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    const password = decodeURIComponent(parsed.password);
    return password.length > 0 ? password : undefined;
  } catch {
    return undefined;
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
