import type { FaultCategory } from '../faults/fault.js';
import type {
  QueueCounts,
  JobRecord,
  DeadLetter,
  DeadLetterQuery,
  CategoryCount,
  ThroughputRequest,
  Throughput,
  DeadLetterSelector,
  PurgeQuery,
  RetentionPolicy,
  CheckpointRecord,
  SharedStateReport,
} from './store-records.js';

/**
 * The store behind durable queues, workers and checkpointers.
 *
 * Every method is async and atomic: it either happens completely or not at all, so a Redis
 * store can implement each one as a single Lua script and a SQL store as one transaction.
 * The store holds no clock: every time it needs arrives as an argument in wall-clock epoch
 * milliseconds (`clock.wallTime()`), so many processes on one store agree on time and tests
 * can drive it with a virtual clock.
 *
 * Payloads, checkpoints, headers and suggestions cross this interface as JSON text already
 * validated by the caller (see `payload.ts`, `headers.ts`); a store stores and returns the text
 * untouched.
 *
 * Vocabulary:
 * - A job is *waiting* when it can run now (`runAt <= now`), *delayed* when `runAt > now`,
 *   *running* while a worker holds its lease, *completed* or *dead* (dead-lettered) at the end.
 *   Waiting and delayed are one stored state; only `runAt` tells them apart.
 * - A *lease* is given by `claim` and carries a fencing *token*, unique per claim. Every write
 *   about a running job names `{ id, token }` and is refused once another claim took the job.
 * - A lease whose `leaseUntil` has passed may be taken by the next `claim` (the worker died or
 *   stalled). Until somebody does, the old holder may still renew or settle it.
 */
export interface DurableStore {
  /** A short name for logs and health reports: `memory`, `sqlite`, `redis`. */
  readonly kind: string;

  /**
   * Adds jobs, all or none. For a job whose `idempotencyKey` already names a job in the same
   * queue (in any state, until retention removes it), nothing is stored and the existing job's
   * id is returned with `created: false`; duplicates within one call are resolved the same way
   * (the first wins). Results are in input order.
   *
   * `options.tx` (SQL stores only) writes the jobs through the caller's own transaction, so they
   * exist exactly when the caller commits; a store that cannot do that throws `ConfigError`.
   */
  enqueue(
    jobs: readonly NewJob[],
    now: number,
    options?: StoreEnqueueOptions,
  ): Promise<EnqueueResult[]>;

  /**
   * Takes up to `limit` jobs of `queue` in one atomic step.
   *
   * First, every running job of the queue whose lease expired (`leaseUntil <= now`: its worker
   * died or stalled, or the claim's reply never reached it) is recovered: an attempt record with
   * outcome `lease_lost` (and the run's `attempt` number) is appended to its history, its
   * attempt count goes back by one (a crash costs a *strike*, never a plan attempt: `attempts`
   * counts only runs that reported back), and it goes back to waiting (keeping its `runAt`) or,
   * when its `strikes` reached `maxStrikes` (claimed that many times and never settled: it keeps
   * killing its worker), to the dead letters with category `resource` (see `crashLoopFault`).
   *
   * Then waiting jobs with `runAt <= now` are taken, highest priority first, then earliest
   * `runAt`, then enqueue order. A *struck* job (`strikes > 0`: recovered after a crash and not
   * settled since) is taken only while fewer than `maxStruck` struck jobs are in this claim;
   * the others are skipped (left waiting, in place) and later jobs taken instead, so jobs that
   * may have killed a worker run apart and a repeat crash points at the culprit. Each job taken
   * gets a new token (unique across processes), `workerId`, `leaseUntil = now + leaseMs`,
   * `attempt + 1` and `strikes + 1`, and is returned in that order with `strikes` as they were
   * before this claim.
   *
   * A paused queue (see `pause`) returns no job and recovers nothing.
   */
  claim(request: ClaimRequest): Promise<ClaimedJob[]>;

  /**
   * Extends the leases still held: `leaseUntil = now + leaseMs` for every `{ id, token }` that
   * matches a running job. Returns the ids whose lease is lost (taken by another claim,
   * settled, or gone); their holders must stop working on them.
   */
  renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]>;

  /**
   * Records the outcome of many running jobs in one atomic step. Each outcome applies only when
   * its `{ id, token }` still holds the lease; the others are skipped and their ids returned in
   * `lost`. Applied outcomes reset `strikes` to 0 (the job did not kill its worker).
   * - `complete`: state completed, `finishedAt = now`.
   * - `retry`: back to waiting with `runAt`, the attempt record appended to history.
   * - `dead`: dead-lettered with the fault, the attempt record appended, `finishedAt = now`.
   * - `release`: back to waiting at `runAt` (default now); with `refund`, the attempt count
   *   goes back by one (the run did not count: shutdown, abort, a queue-wide pause).
   *   With `unstarted` (the worker never started the handler: the claim's reply came too late,
   *   or the worker was stopping) the claim is undone as if it never happened: the attempt
   *   count and `strikes` each go back by one (never below 0) instead of strikes being reset,
   *   no attempt record is appended even if one is given, and `refund` is implied.
   */
  settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult>;

  /**
   * Saves the job's checkpoint (JSON text) if the lease is still held; returns false otherwise
   * and writes nothing. The checkpoint survives retries, releases and dead-lettering, and is
   * given back by `claim` and in the dead letter.
   */
  saveJobCheckpoint(lease: LeaseRef, checkpoint: string, now: number): Promise<boolean>;

  /**
   * Pauses a queue: `claim` returns nothing until `until` (epoch ms), or until `resume` when
   * `until` is null. A pause with an earlier `until` than one in force does not shorten it
   * unless `replace` is true. Running jobs are not touched.
   */
  pause(queue: string, until: number | null, now: number, replace?: boolean): Promise<void>;

  /** Ends a pause at once. Resuming a queue that is not paused does nothing. */
  resume(queue: string): Promise<void>;

  /** Sizes of one queue at `now`. A queue never used reports zeros. */
  stats(queue: string, now: number): Promise<QueueCounts>;

  /** Names of the queues that hold any job or pause state, sorted. */
  queues(): Promise<string[]>;

  /** One job in any state, or undefined when there is no such id (or retention removed it). */
  getJob(id: string): Promise<JobRecord | undefined>;

  /**
   * Dead letters matching the query, newest `deadAt` first; dead letters with the same `deadAt`
   * come in an order of the store's choosing that never changes while they stay dead, so
   * `query.before` (the last letter of the previous page) pages through them without gaps,
   * repeats or OFFSET scans.
   */
  listDead(query?: DeadLetterQuery): Promise<DeadLetter[]>;

  /**
   * How many dead letters match the query, per fault category, largest group first (then by
   * category name). `limit` and `before` are ignored. Categories with no match are left out.
   */
  countDeadByCategory(query?: DeadLetterQuery): Promise<CategoryCount[]>;

  /**
   * Jobs that finished per time bucket: bucket `i` counts the jobs whose `finishedAt` lies in
   * `[since + i * bucketMs, since + (i + 1) * bucketMs)`, completed and dead-lettered apart.
   * Only jobs retention still keeps are counted.
   */
  finishedPerBucket(request: ThroughputRequest): Promise<Throughput>;

  /**
   * Puts dead letters back to waiting (`runAt = now`, attempt 0, strikes 0; history and
   * checkpoint are kept). By `ids`: throws `JobNotFoundError` naming the first id that is not
   * a dead letter, and then nothing is written. By `query`: every match. With `dryRun`, only
   * returns the ids it would requeue. Returns the ids requeued, in the order given / listed.
   */
  requeueDead(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): Promise<string[]>;

  /**
   * Deletes dead letters: those matching the query (`queue`, `category`, `olderThan`, `newerThan`,
   * `text`), then, with `keepNewest`, all but the newest N of what is left in scope. Returns how
   * many.
   */
  purgeDead(query: PurgeQuery): Promise<number>;

  /**
   * Applies retention: deletes completed jobs and dead letters older than the `maxAgeMs` or
   * beyond the newest `maxCount` of their queue (Infinity = no bound). Returns counts deleted.
   */
  prune(retention: RetentionPolicy, now: number): Promise<{ completed: number; dead: number }>;

  /** A checkpoint by key (the Checkpointer's progress), or undefined. */
  getCheckpoint(key: string): Promise<CheckpointRecord | undefined>;
  /** Writes a checkpoint atomically, replacing any previous value. */
  putCheckpoint(key: string, value: string, now: number): Promise<void>;
  /** Deletes a checkpoint; returns whether one existed. */
  deleteCheckpoint(key: string): Promise<boolean>;
  /** Checkpoints whose key starts with `prefix` (all when omitted), sorted by key. */
  listCheckpoints(prefix?: string): Promise<CheckpointRecord[]>;

  /**
   * Optional: the state this store shares between processes for the policies built on it (on
   * Redis: circuit breakers, rate limiters, retry budgets), for operators to look at. Stores
   * that keep none leave it out.
   */
  readSharedState?(): Promise<SharedStateReport>;

  /**
   * Optional: the workers holding a live lease at `now` (`leaseUntil > now`), per queue, with
   * how many jobs each holds, sorted by queue then worker id. Stores record no idle workers: a
   * worker between jobs, or polling an empty queue, is not listed.
   */
  leaseHolders?(now: number): Promise<LeaseHolder[]>;

  /** Resolves when the store answers; rejects with the underlying error otherwise. */
  ping(): Promise<void>;

  /** Releases connections and file handles. Calling it twice is harmless. */
  close(): Promise<void>;

  /**
   * Optional: calls `listener` soon after jobs may have become claimable in `queue` (enqueued or
   * released by any process), so an idle worker need not wait for its next poll. A hint only:
   * wake-ups may be lost or spurious, and workers keep polling. Returns the unsubscribe function.
   */
  onWake?(queue: string, listener: () => void): () => void;
}

/**
 * What a transactional enqueue writes through: a node-postgres client inside the caller's
 * `BEGIN`, or anything with the same `query(text, values)` (an adapter over Drizzle or Kysely).
 */
export interface SqlExecutor {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface StoreEnqueueOptions {
  /**
   * Write inside this transaction instead of one of the store's own.
   * @defaultValue none: the store's own transaction
   */
  readonly tx?: SqlExecutor;
}

export interface NewJob {
  readonly queue: string;
  /** JSON text. */
  readonly payload: string;
  /** Higher runs first. Default 0. */
  readonly priority: number;
  /** Epoch ms before which the job is not claimed. */
  readonly runAt: number;
  readonly idempotencyKey?: string;
  /** Attempts in all for this job, overriding the plan's (undefined: the plan decides). */
  readonly maxAttempts?: number;
  /**
   * Job headers (trace context, correlation ids) as JSON text of a string → string map, already
   * validated and bounded by the caller (see `headers.ts`); stored and returned untouched.
   */
  readonly headers?: string;
}

export interface EnqueueResult {
  readonly id: string;
  /** False when an idempotency key matched an existing job. */
  readonly created: boolean;
}

export interface ClaimRequest {
  readonly queue: string;
  readonly workerId: string;
  /** The most jobs to take. */
  readonly limit: number;
  readonly leaseMs: number;
  readonly now: number;
  /** Crash-loop limit: claims without any settle before the job is dead-lettered. */
  readonly maxStrikes: number;
  /**
   * The most struck jobs (`strikes > 0`) this claim may return (default: no limit). A worker
   * passes 1 while it runs no struck job and 0 while it does, so that two jobs which were
   * running when a worker died never share a process again until one of them settles.
   */
  readonly maxStruck?: number;
}

/** Identifies one claim of one job. */
export interface LeaseRef {
  readonly id: string;
  readonly token: string;
}

export interface ClaimedJob extends LeaseRef {
  readonly queue: string;
  readonly payload: string;
  readonly priority: number;
  /** This run's number, 1 for the first (refunded runs do not count). */
  readonly attempt: number;
  /** Claims since the job last settled, before this one: 0 unless it was running when a worker died. */
  readonly strikes: number;
  readonly maxAttempts?: number;
  readonly enqueuedAt: number;
  readonly runAt: number;
  readonly leaseUntil: number;
  /** The last checkpoint saved for this job (JSON text). */
  readonly checkpoint?: string;
  readonly idempotencyKey?: string;
  /** The job's headers as given at enqueue (JSON text, see `NewJob.headers`). */
  readonly headers?: string;
}

/** One run of a job, as kept in its history. */
export interface AttemptRecord {
  readonly attempt: number;
  readonly workerId: string;
  /** Epoch ms. */
  readonly startedAt: number;
  readonly durationMs: number;
  readonly outcome: 'retry' | 'dead' | 'released' | 'lease_lost';
  readonly category?: FaultCategory;
  readonly message?: string;
}

export interface FaultSummary {
  readonly category: FaultCategory;
  readonly message: string;
  readonly suggestions: readonly string[];
}

export type Outcome =
  | (LeaseRef & { readonly kind: 'complete' })
  | (LeaseRef & { readonly kind: 'retry'; readonly runAt: number; readonly record: AttemptRecord })
  | (LeaseRef & {
      readonly kind: 'dead';
      readonly fault: FaultSummary;
      readonly record: AttemptRecord;
    })
  | (LeaseRef & {
      readonly kind: 'release';
      readonly refund: boolean;
      /** The handler never started: undo the claim's attempt and strike (see `settle`). */
      readonly unstarted?: boolean;
      readonly runAt?: number;
      readonly record?: AttemptRecord;
    });

export interface SettleResult {
  /** Ids whose outcome was not applied because the lease was lost. */
  readonly lost: string[];
}

/** A worker holding live leases on jobs of one queue (see `DurableStore.leaseHolders`). */
export interface LeaseHolder {
  /** The queue of the jobs it holds. */
  readonly queue: string;
  /** The `workerId` its claims named. */
  readonly workerId: string;
  /** Jobs of `queue` it holds a live lease on. */
  readonly jobs: number;
}

export type {
  QueueCounts,
  JobState,
  JobRecord,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterCursor,
  CategoryCount,
  ThroughputRequest,
  Throughput,
  DeadLetterSelector,
  PurgeQuery,
  RetentionBound,
  RetentionPolicy,
  CheckpointRecord,
  SharedStateReport,
  SharedBreakerState,
  SharedLimiterState,
  SharedBudgetState,
} from './store-records.js';
