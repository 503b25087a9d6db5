/** Numbers, times and durations as the pages show them. */

const NUMBER = new Intl.NumberFormat('en-US');

export function count(n: number): string {
  return NUMBER.format(n);
}

/** `850 ms`, `12 s`, `4 min`, `3.5 h`, `2 d`. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return 'indefinitely';
  const abs = Math.abs(ms);
  if (abs < 1_000) return `${Math.round(ms)} ms`;
  if (abs < 60_000) return `${Math.round(ms / 1_000)} s`;
  if (abs < 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (abs < 86_400_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${(ms / 86_400_000).toFixed(1)} d`;
}

/** `2026-12-02 16:40:05 UTC`. */
export function time(epochMs: number): string {
  if (!Number.isFinite(epochMs)) return 'never';
  return `${new Date(epochMs).toISOString().replace('T', ' ').slice(0, 19)} UTC`;
}

/**
 * `5 min ago` (or `in 5 min`); anything under a minute is `just now`, so a live page does not
 * change (and redraw) every second only because time passed.
 */
export function ago(epochMs: number, now: number): string {
  const delta = now - epochMs;
  if (Math.abs(delta) < 60_000) return 'just now';
  return delta >= 0 ? `${duration(delta)} ago` : `in ${duration(-delta)}`;
}

/** JSON text pretty-printed, or the text as it is when it is not JSON. */
export function prettyJson(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}
