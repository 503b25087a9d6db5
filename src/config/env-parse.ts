import { cutText, MAX_DESCRIBED_LENGTH } from '../faults/errors.js';
import { JITTERS, type EnvVariableKind, LOG_LEVELS } from './env-variables.js';
import { redactUrl } from './redact.js';

/** Reading one variable's text: numbers, durations, jitters, log levels and store locations. */

export type StoreLocation =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'redis'; readonly url: string }
  | { readonly kind: 'postgres'; readonly url: string }
  | { readonly kind: 'memory' };

/** A variable's value, or why its text is not one. */
export type Parsed = number | string | StoreLocation | { problem: string };

export function parse(kind: EnvVariableKind, text: string): Parsed {
  switch (kind) {
    case 'count':
    case 'positiveCount':
    case 'ms':
    case 'positiveMs': {
      const unit = kind === 'ms' || kind === 'positiveMs' ? ' (milliseconds)' : '';
      const min = kind === 'positiveCount' || kind === 'positiveMs' ? 1 : 0;
      if (!/^\d+$/.test(text)) return { problem: `expected a whole number >= ${min}${unit}` };
      const n = Number(text);
      if (!Number.isSafeInteger(n)) return { problem: `too large; expected a whole number${unit}` };
      if (n < min) return { problem: `expected a whole number >= ${min}${unit}` };
      return n;
    }
    case 'jitter':
      return (JITTERS as readonly string[]).includes(text)
        ? text
        : { problem: `expected one of ${JITTERS.join(', ')}` };
    case 'logLevel':
      return (LOG_LEVELS as readonly string[]).includes(text)
        ? text
        : { problem: `expected one of ${LOG_LEVELS.join(', ')}` };
    case 'queue':
      return text.length <= 200
        ? text
        : { problem: 'expected a queue name of at most 200 characters' };
    case 'store':
      return parseStoreLocation(text);
    case 'secret':
      return text.length >= 16 && !/\s/.test(text)
        ? text
        : { problem: 'expected at least 16 characters without spaces' };
  }
}

/**
 * Parses `sqlite:PATH` (also `sqlite://PATH` and a bare path ending in .db/.sqlite),
 * `redis://...`/`rediss://...` and `memory`. Messages never echo a password.
 */
export function parseStoreLocation(text: string): StoreLocation | { problem: string } {
  if (text === 'memory' || text === 'memory:') return { kind: 'memory' };
  if (text.startsWith('redis://') || text.startsWith('rediss://') || text.startsWith('valkey://')) {
    try {
      const url = new URL(text);
      if (url.hostname === '')
        return { problem: 'a redis URL needs a host, e.g. redis://127.0.0.1:6379' };
      return {
        kind: 'redis',
        url: text.startsWith('valkey://') ? `redis://${text.slice('valkey://'.length)}` : text,
      };
    } catch {
      return {
        problem:
          'not a valid URL; expected redis://host:port/db, with user:password@ before the host when needed (a port from 1 to 65535)',
      };
    }
  }
  if (/^postgres(ql)?:\/\//i.test(text)) {
    try {
      const url = new URL(text);
      if (url.hostname === '')
        return { problem: 'a postgres URL needs a host, e.g. postgres://user@127.0.0.1:5432/app' };
      return { kind: 'postgres', url: text };
    } catch {
      return { problem: 'not a valid URL; expected postgres://[user:password@]host:port/database' };
    }
  }
  if (text.startsWith('sqlite:')) {
    const path = text.slice(text.startsWith('sqlite://') ? 'sqlite://'.length : 'sqlite:'.length);
    if (path === '') return { problem: 'expected sqlite:PATH, e.g. sqlite:./faultline.db' };
    return { kind: 'sqlite', path };
  }
  if (/\.(db|sqlite3?)$/i.test(text) && !text.includes('://'))
    return { kind: 'sqlite', path: text };
  return {
    problem: 'expected sqlite:PATH, redis://host:port, postgres://host:port/database or memory',
  };
}

/** A value as an error may show it: credentials masked, and cut (with a marker) when very long. */
export function shown(text: string): string {
  return cutText(redactUrl(text), MAX_DESCRIBED_LENGTH);
}
