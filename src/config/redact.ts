/**
 * Connection URLs carry credentials (`redis://user:secret@host:6379`). Nothing faultline prints
 * (logs, errors, `toString()`, the CLI) may show them; every place scrubs text through here.
 * The user info runs up to the LAST `@` before the host, so a password holding a raw `@`
 * (`redis://u:p@ss@host`) is masked whole.
 */

const MASK = '***';

// scheme://userinfo@ anywhere in free text.
const URL_WITH_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/gi;
// The same at the start of a lone URL, keeping the user name when there is a password.
const LEADING_USERINFO = /^([a-z][a-z0-9+.-]*:\/\/)([^\s/?#]*)@/i;

/**
 * Scrubs every `scheme://user:pass@` occurrence in free text (an error message, a log line),
 * plus any extra secrets given (e.g. a password passed as an option rather than in the URL).
 */
export function redactCredentials(
  text: string,
  secrets: readonly (string | null | undefined)[] = [],
): string {
  let out = text.replace(URL_WITH_USERINFO, (_match, scheme: string) => `${scheme}${MASK}@`);
  for (const secret of secrets) {
    // Very short secrets would mask innocent text; they are masked only inside URLs above.
    if (typeof secret === 'string' && secret.length >= 4) out = out.split(secret).join(MASK);
  }
  return out;
}

/**
 * One URL with its password replaced by `***`; the user name stays when a password follows it
 * (`redis://user:***@host:1/0`), a lone token is masked whole (`rediss://***@host`).
 */
export function redactUrl(url: string): string {
  return url.replace(LEADING_USERINFO, (_match, scheme: string, auth: string) => {
    const colon = auth.indexOf(':');
    if (colon <= 0) return `${scheme}${MASK}@`;
    return `${scheme}${auth.slice(0, colon)}:${MASK}@`;
  });
}

/** The password of a URL, if any, so that error text echoing it can be scrubbed too. */
export function passwordOf(url: string): string | undefined {
  try {
    const password = decodeURIComponent(new URL(url).password);
    return password.length > 0 ? password : undefined;
  } catch {
    return undefined;
  }
}
