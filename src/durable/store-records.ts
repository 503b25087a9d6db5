import type { FaultCategory } from '../faults/fault.js';
import type { AttemptRecord, FaultSummary } from './store.js';

// What a store reports back (see `DurableStore` in store.ts): counts, job records, dead letters
// and their queries, throughput, retention, checkpoints and shared state.

/** The sizes and state of one queue, as `stats()` reports them. */
export interface QueueCounts {
  /** Runnable now. */
  readonly waiting: number;
  /** Waiting for their `runAt`. */
  readonly delayed: number;
  readonly running: number;
  /** Completed jobs still retained. */
  readonly completed: number;
  readonly dead: number;
  /** Epoch ms until which the queue is paused, `Infinity` until resumed, null when running. */
  readonly pausedUntil: number | null;
  /** `runAt` of the oldest waiting job (how long work has been waiting), null when none. */
  readonly oldestWaitingSince: number | null;
}

/** Stored states: a delayed job is `waiting` with `runAt` in the future. */
export type JobState = 'waiting' | 'running' | 'completed' | 'dead';

export interface JobRecord {
  readonly id: string;
  readonly queue: string;
  readonly state: JobState;
  readonly payload: string;
  readonly priority: number;
  /** Runs counted so far. */
  readonly attempts: number;
  readonly maxAttempts?: number;
  readonly enqueuedAt: number;
  readonly runAt: number;
  /** Set while running. */
  readonly leaseUntil?: number;
  readonly workerId?: string;
  readonly finishedAt?: number;
  readonly idempotencyKey?: string;
  readonly checkpoint?: string;
  readonly history: readonly AttemptRecord[];
  /** Set for dead letters. */
  readonly fault?: FaultSummary;
  /** The job's headers as given at enqueue (JSON text, see `NewJob.headers`). */
  readonly headers?: string;
}

export interface DeadLetter {
  readonly id: string;
  readonly queue: string;
  readonly payload: string;
  readonly priority: number;
  readonly attempts: number;
  readonly enqueuedAt: number;
  readonly deadAt: number;
  readonly fault: FaultSummary;
  readonly history: readonly AttemptRecord[];
  readonly checkpoint?: string;
  readonly idempotencyKey?: string;
  /** The job's headers as given at enqueue (JSON text, see `NewJob.headers`). */
  readonly headers?: string;
}

export interface DeadLetterQuery {
  readonly queue?: string;
  readonly category?: FaultCategory;
  /** Only dead letters with `deadAt <= olderThan` (epoch ms). */
  readonly olderThan?: number;
  /** Only dead letters with `deadAt >= newerThan` (epoch ms). */
  readonly newerThan?: number;
  /** At most this many (default: all). */
  readonly limit?: number;
  /**
   * Only dead letters whose fault message contains this text, ignoring the case of ASCII letters
   * (plain text, not a pattern). Stores find these by reading the messages: a scan of the other
   * filters' matches.
   */
  readonly text?: string;
  /** Keyset cursor: only dead letters listed after this one (the last of the previous page). */
  readonly before?: DeadLetterCursor;
}

/** A dead letter's place in the listing order of `listDead`. */
export interface DeadLetterCursor {
  readonly deadAt: number;
  readonly id: string;
}

export interface CategoryCount {
  readonly category: FaultCategory;
  readonly count: number;
}

export interface ThroughputRequest {
  /** One queue, or every queue when omitted. */
  readonly queue?: string;
  /** Start of the first bucket (epoch ms). */
  readonly since: number;
  /** Width of a bucket in ms (a positive integer). */
  readonly bucketMs: number;
  /** How many buckets (1..1,440). */
  readonly buckets: number;
}

export interface Throughput {
  /** Completed jobs per bucket, `buckets` entries. */
  readonly completed: number[];
  /** Dead-lettered jobs per bucket, `buckets` entries. */
  readonly dead: number[];
}

export type DeadLetterSelector =
  | { readonly ids: readonly string[] }
  | { readonly query: DeadLetterQuery };

export interface PurgeQuery {
  readonly queue?: string;
  readonly category?: FaultCategory;
  readonly olderThan?: number;
  /** Only dead letters with `deadAt >= newerThan` (epoch ms). */
  readonly newerThan?: number;
  /** Only dead letters whose fault message contains this text (as `DeadLetterQuery.text`). */
  readonly text?: string;
  /** After the filters above, keep this many newest in scope and delete the rest. */
  readonly keepNewest?: number;
}

export interface RetentionBound {
  /** Delete records whose `finishedAt` is older than this (Infinity: keep by age). */
  readonly maxAgeMs: number;
  /** Keep at most this many newest per queue (Infinity: no bound). */
  readonly maxCount: number;
}

export interface RetentionPolicy {
  readonly completed: RetentionBound;
  readonly dead: RetentionBound;
}

export interface CheckpointRecord {
  readonly key: string;
  /** JSON text. */
  readonly value: string;
  readonly updatedAt: number;
}

/** Shared policy state as `readSharedState` finds it. */
export interface SharedStateReport {
  readonly breakers: readonly SharedBreakerState[];
  readonly limiters: readonly SharedLimiterState[];
  readonly budgets: readonly SharedBudgetState[];
  /** False when discovery stopped at its bound and more may exist. */
  readonly complete: boolean;
}

export interface SharedBreakerState {
  readonly name: string;
  /** Epoch ms until which the circuit is open for every process, null when closed. */
  readonly openUntil: number | null;
  /** The process that opened it last. */
  readonly openedBy?: string;
  /** The process holding the one half-open probe, if any. */
  readonly probeHolder?: string;
}

export interface SharedLimiterState {
  readonly name: string;
  /** Tokens in the bucket at its last refill. */
  readonly tokens: number;
  /** Epoch ms of that refill. */
  readonly at: number;
}

export interface SharedBudgetState {
  readonly name: string;
  /** First attempts and retries counted in the stored window buckets. */
  readonly requests: number;
  readonly retries: number;
}
