import { ConfigError } from '../faults/errors.js';
import type { AttemptRecord, FaultSummary, StoreEnqueueOptions } from './store.js';

/**
 * Small rules every store applies the same way, kept in one place so the memory, SQLite and
 * Redis stores cannot drift apart.
 */

/** The fault recorded when the crash-loop limit dead-letters a job. */
export function crashLoopFault(strikes: number): FaultSummary {
  return {
    category: 'resource',
    message: `The job was claimed ${strikes} times and its worker never reported back: it probably crashes the worker (crash-loop limit reached)`,
    suggestions: [
      'Run the job by hand with its payload to see what kills the process (memory, native crash, process.exit).',
      'Requeue it once fixed: faultline dead requeue <id>.',
    ],
  };
}

/**
 * The pause in force after `pause(queue, until, now, replace)`. `until` null means "until
 * resumed" (Infinity). An earlier end does not shorten a pause still in force unless `replace`.
 */
export function mergePause(
  current: number | null | undefined,
  until: number | null,
  now: number,
  replace: boolean,
): number {
  const next = until === null ? Number.POSITIVE_INFINITY : until;
  if (replace || current == null || current <= now) return next;
  return Math.max(current, next);
}

/** The pause as reported by `stats`: null once it has ended. */
export function pauseInForce(until: number | null | undefined, now: number): number | null {
  return until != null && until > now ? until : null;
}

/**
 * Bigger than any real epoch ms (year 275760) and exact in a double and a SQLite INTEGER:
 * how stores that cannot hold Infinity write "paused until resumed".
 */
export const FOREVER_MS = 8_640_000_000_000_000;

export function encodeUntil(until: number): number {
  return until === Number.POSITIVE_INFINITY ? FOREVER_MS : until;
}

export function decodeUntil(stored: number | null): number | null {
  if (stored === null) return null;
  return stored >= FOREVER_MS ? Number.POSITIVE_INFINITY : stored;
}

/**
 * The most attempt records a job keeps: the first (how it started failing) and the newest
 * HISTORY_LIMIT - 1. Every store trims on append, so a job retried forever stays small.
 */
export const HISTORY_LIMIT = 50;

/** Trims a history in place to the first entry plus the newest HISTORY_LIMIT - 1. */
export function boundHistory(history: AttemptRecord[]): void {
  if (history.length > HISTORY_LIMIT) history.splice(1, history.length - HISTORY_LIMIT);
}

/** Stores that cannot write through a caller's SQL transaction refuse `tx` where it enters. */
export function refuseTransaction(kind: string, options: StoreEnqueueOptions | undefined): void {
  if (options?.tx !== undefined) {
    throw new ConfigError(
      'tx',
      '(a transaction)',
      `no transaction: the ${kind} store cannot enqueue inside a SQL transaction (only the PostgreSQL store can)`,
    );
  }
}
