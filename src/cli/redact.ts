/**
 * Scrubs `scheme://user:password@` from any text the CLI prints (messages, errors, labels),
 * so a Redis URL's credentials never reach a terminal or a log.
 */
const URL_WITH_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi;

export function redact(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text.replace(URL_WITH_USERINFO, (_match, scheme: string) => `${scheme}***@`);
  for (const secret of secrets) {
    if (secret !== undefined && secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
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
