import * as check from '../validate/validate.js';
import { Events } from '../observe/events.js';
import {
  type LoadedEvent,
  type LoadReason,
  Refreshable,
  type RefreshableOptions,
  type RefreshFailedEvent,
  type StaleServedEvent,
  sharedRefreshableOptions,
  type ValidRefreshableOptions,
} from './refreshable.js';

export interface RefreshableMapLoadContext<V> {
  readonly previous: V | undefined;
  readonly reason: LoadReason;
}

export type RefreshableMapLoad<K, V> = (
  key: K,
  context: RefreshableMapLoadContext<V>,
) => PromiseLike<V> | V;

export interface RefreshableMapOptions<V> extends RefreshableOptions<V> {
  /**
   * Most keys kept; the least recently used is dropped beyond it.
   * @defaultValue 1000
   */
  readonly maxEntries?: number;
}

export interface RefreshableMapEvents<K> {
  loaded: LoadedEvent & { readonly key: K };
  refreshFailed: RefreshFailedEvent & { readonly key: K };
  stale: StaleServedEvent & { readonly key: K };
  evicted: { readonly key: K };
}

export interface RefreshableMapStats {
  readonly size: number;
  readonly maxEntries: number;
  readonly evictions: number;
  readonly loads: number;
  readonly loadFailures: number;
  readonly hits: number;
  readonly staleServed: number;
}

/**
 * One refreshable value per key (one stream URL per track id), with a least-recently-used
 * bound so a long-running proxy does not keep every key it ever saw.
 */
export class RefreshableMap<K, V> {
  readonly events = new Events<RefreshableMapEvents<K>>();
  readonly maxEntries: number;
  private readonly options: ValidRefreshableOptions<V>;
  // A Map iterates in insertion order: re-inserting on use keeps the oldest first.
  private readonly entries = new Map<K, Refreshable<V>>();
  private evictions = 0;
  // Totals of entries already evicted, so stats() does not forget them.
  private retired = { loads: 0, loadFailures: 0, hits: 0, staleServed: 0 };

  constructor(
    private readonly load: RefreshableMapLoad<K, V>,
    options: RefreshableMapOptions<V>,
  ) {
    check.fn('load', load);
    this.options = sharedRefreshableOptions(options, ['maxEntries']);
    this.maxEntries = check.positiveInteger('maxEntries', options.maxEntries ?? 1000);
  }

  /** The fresh value for `key` (see `Refreshable.get`). */
  get(key: K): Promise<V> {
    return this.entryFor(key).get();
  }

  peek(key: K): V | undefined {
    return this.entries.get(key)?.peek();
  }

  /** The next `get(key)` loads; the old value stays as the stale fallback. */
  invalidate(key: K): void {
    this.entries.get(key)?.invalidate();
  }

  /** Forgets `key` entirely. */
  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.retire(entry);
    return this.entries.delete(key);
  }

  has(key: K): boolean {
    return this.entries.has(key);
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): RefreshableMapStats {
    const totals = { ...this.retired };
    for (const entry of this.entries.values()) {
      const s = entry.stats();
      totals.loads += s.loads;
      totals.loadFailures += s.loadFailures;
      totals.hits += s.hits;
      totals.staleServed += s.staleServed;
    }
    return {
      size: this.entries.size,
      maxEntries: this.maxEntries,
      evictions: this.evictions,
      ...totals,
    };
  }

  private entryFor(key: K): Refreshable<V> {
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, entry);
      return entry;
    }
    entry = new Refreshable<V>((context) => this.load(key, context), this.options);
    this.forwardEvents(key, entry);
    this.entries.set(key, entry);
    while (this.entries.size > this.maxEntries) {
      const [oldestKey, oldest] = this.entries.entries().next().value as [K, Refreshable<V>];
      this.entries.delete(oldestKey);
      this.retire(oldest);
      this.evictions++;
      if (this.events.has('evicted')) this.events.emit('evicted', { key: oldestKey });
    }
    return entry;
  }

  private retire(entry: Refreshable<V>): void {
    const s = entry.stats();
    this.retired.loads += s.loads;
    this.retired.loadFailures += s.loadFailures;
    this.retired.hits += s.hits;
    this.retired.staleServed += s.staleServed;
  }

  private forwardEvents(key: K, entry: Refreshable<V>): void {
    // The map's listeners are looked up at emit time, so listeners added later still hear every key.
    entry.events.on('loaded', (event) => {
      if (this.events.has('loaded')) this.events.emit('loaded', { ...event, key });
    });
    entry.events.on('refreshFailed', (event) => {
      if (this.events.has('refreshFailed')) this.events.emit('refreshFailed', { ...event, key });
    });
    entry.events.on('stale', (event) => {
      if (this.events.has('stale')) this.events.emit('stale', { ...event, key });
    });
  }
}

/** Creates a RefreshableMap (see the class). */
export function refreshableMap<K, V>(
  load: RefreshableMapLoad<K, V>,
  options: RefreshableMapOptions<V>,
): RefreshableMap<K, V> {
  return new RefreshableMap(load, options);
}
