import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DurableStore } from '../durable/store.js';
import type { ResolvedOptions } from './options.js';
import type { ReadCache } from './read-cache.js';

/** What a page or action needs to know about its request. */
export interface PageContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: URLSearchParams;
  readonly store: DurableStore;
  readonly storeName: string;
  readonly options: ResolvedOptions;
  /** Wall-clock epoch ms of this request, as the store expects. */
  readonly now: number;
  /** This browser's CSRF token, for the forms of the page. */
  readonly csrf: string;
  /** A link to a page of this store: base path, store, path, query. */
  href(path: string, query?: readonly (readonly [string, string])[]): string;
  /** A link to one of the dashboard's asset files. */
  asset(name: string): string;
  /** A store read, shared with the other requests of the last second. */
  read<T>(key: string, load: () => Promise<T>): Promise<T>;
  readonly cache: ReadCache;
}

export function buildQuery(query: readonly (readonly [string, string])[] = []): string {
  if (query.length === 0) return '';
  return `?${new URLSearchParams(query.map(([k, v]): [string, string] => [k, v])).toString()}`;
}
