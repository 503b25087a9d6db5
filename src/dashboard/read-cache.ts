import type { Clock } from '../time/clock.js';

/**
 * Store reads shared by the requests of the last `ttlMs`: twenty open tabs refreshing the same
 * page cost one set of store reads per interval, not twenty. Concurrent requests for the same
 * read wait on one promise (single flight). Only data is cached, never a rendered page (each
 * page carries its browser's own CSRF token).
 */
export class ReadCache {
  private readonly entries = new Map<
    string,
    { readonly at: number; readonly value: Promise<unknown> }
  >();

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 1_000,
    private readonly maxEntries = 500,
  ) {}

  read<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = this.clock.now();
    const hit = this.entries.get(key);
    if (hit !== undefined && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { at: now, value });
    // A failed read is not kept: the next request tries again.
    value.catch(() => {
      if (this.entries.get(key)?.value === value) this.entries.delete(key);
    });
    if (this.entries.size > this.maxEntries) this.evict(now);
    return value;
  }

  /** Forgets everything (after an action, so the next page shows its effect at once). */
  clear(): void {
    this.entries.clear();
  }

  private evict(now: number): void {
    for (const [key, entry] of this.entries)
      if (now - entry.at >= this.ttlMs) this.entries.delete(key);
    // Still too many fresh ones (many different filters at once): drop the oldest.
    for (const key of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(key);
    }
  }
}
