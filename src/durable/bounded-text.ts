/**
 * Bounds on what a worker writes about a failure, so a handler that throws a 5 MB message
 * (or a plan that keeps retrying it) cannot grow a job record without limit.
 */

/** At most this many suggestions are kept per fault. */
export const MAX_SUGGESTIONS = 10;

/**
 * `text` when it has at most `max` characters; otherwise its first `max` characters and a
 * visible marker saying how much was cut. Never splits a surrogate pair.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  let end = max;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…[cut ${text.length - end} chars]`;
}

export function cutSuggestions(suggestions: readonly string[], max: number): string[] {
  return suggestions.slice(0, MAX_SUGGESTIONS).map((s) => cutText(String(s), max));
}
