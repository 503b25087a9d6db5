/**
 * Key naming. Every key of one queue lives under one hash tag, `{<prefix>:q:<queue>}`, so every
 * script touching a queue works on Redis Cluster (all its keys hash to one slot).
 *
 * Prefix and queue name are escaped so the mapping (prefix, queue, suffix) -> key is injective:
 * `%`, `{`, `}` and `:` become `%XX`, so an escaped part never contains a separator or a brace
 * and two different queues can never share a key, whatever their names (spaces, braces, unicode).
 */

const SPECIAL = /[%{}:]/g;

export function escapeKeyPart(part: string): string {
  return part.replace(
    SPECIAL,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

export function unescapeKeyPart(escaped: string): string {
  return escaped.replace(/%([0-9A-F]{2})/g, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** The keys of one queue. Suffixes are fixed words, so no two kinds of key can collide. */
export interface QueueKeys {
  readonly tag: string;
  /** Prefix of the per-job hashes: `<tag>:j:<member>`. */
  readonly jobPrefix: string;
  /** Sorted set of runnable jobs, scored by -priority; members `<runAt><member>` (see scripts/common.lua.ts). */
  readonly waiting: string;
  /** Sorted set of delayed job members, scored by run-at (wall ms). */
  readonly delayed: string;
  /** Sorted set of running job ids, scored by lease expiry (wall ms). */
  readonly running: string;
  /** Sorted set of completed job ids, scored by completion time. */
  readonly completed: string;
  /** Sorted set of dead job ids, scored by time of death. */
  readonly dead: string;
  /** Hash: idempotency key -> job member. */
  readonly idempotency: string;
  /** Hash: queue metadata (sequence counters, paused until). */
  readonly meta: string;
}

export function queueTag(prefix: string, queue: string): string {
  return objectTag(prefix, 'q', queue);
}

export function queueKeys(prefix: string, queue: string): QueueKeys {
  const tag = queueTag(prefix, queue);
  return {
    tag,
    jobPrefix: `${tag}:j:`,
    waiting: `${tag}:waiting`,
    delayed: `${tag}:delayed`,
    running: `${tag}:running`,
    completed: `${tag}:completed`,
    dead: `${tag}:dead`,
    idempotency: `${tag}:idem`,
    meta: `${tag}:meta`,
  };
}

/** The sorted set of one queue's dead letters of one fault category (kept by scripts/common.lua.ts). */
export function deadCategoryKey(keys: QueueKeys, category: string): string {
  return `${keys.dead}:c:${category}`;
}

/**
 * Keys outside any queue (the registry of queue names, checkpoints). Two parts inside the braces,
 * where queue and object tags have three, so they never collide with one.
 */
export function globalKey(prefix: string, kind: string, name?: string): string {
  const tag = `{${escapeKeyPart(prefix)}:${kind}}`;
  return name === undefined ? tag : `${tag}:${escapeKeyPart(name)}`;
}

/**
 * Every key of `kind:name` under one tag, for things that own several keys (a queue is kind `q`,
 * a breaker `cb`, a limiter `rl`, a budget `rb`). `kind` is a fixed word chosen by faultline.
 */
export function objectTag(prefix: string, kind: string, name: string): string {
  return `{${escapeKeyPart(prefix)}:${kind}:${escapeKeyPart(name)}}`;
}
