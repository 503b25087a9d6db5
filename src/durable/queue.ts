import { scoped } from '../validate/scoped.js';
import type { FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { headersText, type JobHeaders, parseHeaders } from './headers.js';
import { type Interceptor, InterceptorChain } from './interceptors.js';
import { fromJsonText } from './payload.js';
import type {
  AttemptRecord,
  DeadLetter,
  DurableStore,
  EnqueueResult,
  FaultSummary,
  JobRecord,
  NewJob,
  QueueCounts,
  SqlExecutor,
  StoreEnqueueOptions,
  RetentionBound,
  RetentionPolicy,
} from './store.js';
import { deadLetterQuery, resolveRetention, toEpoch, toNewJob } from './queue-input.js';

/** Every option error names the option from `queue`. */
const check = scoped('queue');

export interface EnqueueOptions {
  /**
   * Higher runs first (a whole number, may be negative).
   * @defaultValue 0
   */
  readonly priority?: number;
  /**
   * Run no earlier than this many ms from now.
   * @defaultValue 0: as soon as a worker is free
   */
  readonly delayMs?: number;
  /**
   * Run no earlier than this time (epoch ms or a Date). Not together with `delayMs`.
   * @defaultValue now
   */
  readonly runAt?: number | Date;
  /**
   * Enqueueing again with the same key in the same queue stores nothing and returns the first job's
   * id.
   * @defaultValue none: every enqueue stores a job
   */
  readonly idempotencyKey?: string;
  /**
   * Attempts in all for this job; the plan's limit applies too.
   * @defaultValue no limit of its own: the plan's limits apply
   */
  readonly maxAttempts?: number;
  /**
   * Strings that travel with the job to every run and into its dead letter (a correlation id,
   * a tenant; trace context is added by `faultline/otel`). At most 16 entries, 4 KB as JSON.
   * @defaultValue none
   */
  readonly headers?: JobHeaders;
  /**
   * PostgreSQL store only: write the job inside this transaction (see `TransactionOptions`).
   * @defaultValue none: the store writes in its own transaction
   */
  readonly tx?: SqlExecutor;
}

export interface TransactionOptions {
  /**
   * A node-postgres client inside your `BEGIN` (or any `{ query(text, values) }` over the same
   * transaction): the jobs exist exactly when you commit, and workers hear of them on commit.
   * @defaultValue none: the store writes in its own transaction
   */
  readonly tx?: SqlExecutor;
}

/**
 * One `enqueue`/`enqueueMany` call as an enqueue interceptor sees it. `headers` holds one map
 * per job, in order: an interceptor may add entries before calling `proceed` (they are checked
 * against the same bounds afterwards).
 */
export interface EnqueueCall {
  readonly queue: string;
  readonly headers: readonly Record<string, string>[];
}

/** Wraps every enqueue of a queue (tracing); see `Queue.intercept`. */
export type EnqueueInterceptor = Interceptor<EnqueueCall, EnqueueResult[]>;

export interface QueueOptions {
  /**
   * Timestamps of enqueues and the workers' timers.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * How long finished work is kept. `Infinity` keeps everything.
   * @defaultValue completed jobs 1 day / newest 10,000 per queue; dead letters 30 days / newest
   * 100,000 per queue
   */
  readonly retention?: {
    readonly completed?: Partial<RetentionBound>;
    readonly dead?: Partial<RetentionBound>;
  };
}

export interface QueueStats extends QueueCounts {
  readonly queue: string;
  /** How long the oldest runnable job has been waiting, null when none waits. */
  readonly oldestWaitingAgeMs: number | null;
}

export type QueueHealth =
  | ({ readonly status: 'healthy'; readonly store: string } & QueueStats)
  | {
      readonly status: 'unhealthy';
      readonly store: string;
      readonly queue: string;
      readonly error: unknown;
    };

/** A dead letter with its payload and checkpoint parsed back from JSON. */
export interface DeadLetterView<P = unknown> {
  readonly id: string;
  readonly queue: string;
  readonly payload: P;
  readonly priority: number;
  readonly attempts: number;
  readonly enqueuedAt: number;
  readonly deadAt: number;
  readonly fault: FaultSummary;
  readonly history: readonly AttemptRecord[];
  readonly checkpoint?: unknown;
  readonly idempotencyKey?: string;
}

export interface DeadLetterFilter {
  readonly category?: FaultCategory;
  /** Only letters dead for at least this long. */
  readonly olderThanMs?: number;
  /** Only letters dead for at most this long. */
  readonly newerThanMs?: number;
  readonly limit?: number;
}

export interface QueueEvents {
  enqueued: { readonly queue: string; readonly ids: readonly string[] };
  paused: { readonly queue: string; readonly until: number | null };
  resumed: { readonly queue: string };
}

export { DEFAULT_RETENTION } from './queue-input.js';

/**
 * A named queue in a store. Several queues may share one store; several processes may share
 * one queue. Payloads are JSON values, checked at enqueue.
 */
export class Queue<P = unknown> {
  readonly name: string;
  readonly store: DurableStore;
  readonly clock: Clock;
  readonly retention: RetentionPolicy;
  readonly events = new Events<QueueEvents>();
  private readonly interceptors = new InterceptorChain<EnqueueCall, EnqueueResult[]>();

  constructor(store: DurableStore, name = 'default', options: QueueOptions = {}) {
    if (typeof store !== 'object' || store === null || typeof store.claim !== 'function') {
      throw check.configError(
        'store',
        store,
        'a DurableStore (MemoryStore, SqliteStore, RedisStore)',
      );
    }
    if (typeof name !== 'string' || name.length === 0)
      throw check.configError('name', name, 'a non-empty queue name');
    const opts = check.plainObject('options', options);
    check.knownKeys('queue', opts, ['clock', 'retention']);
    this.store = store;
    this.name = name;
    this.clock = options.clock ?? systemClock;
    this.retention = resolveRetention(options.retention);
  }

  /** Adds one job. Throws a TypeError naming the path of a value that is not JSON; nothing is stored then. */
  async enqueue(payload: P, options: EnqueueOptions = {}): Promise<EnqueueResult> {
    const { tx, ...item } = check.plainObject('options', options) as EnqueueOptions;
    const [result] = await this.enqueueMany([{ ...item, payload }], tx === undefined ? {} : { tx });
    return result!;
  }

  /** Adds many jobs in one atomic write: all are stored or none (with `tx`: as the caller's transaction ends). */
  async enqueueMany(
    items: readonly (Omit<EnqueueOptions, 'tx'> & { readonly payload: P })[],
    options: TransactionOptions = {},
  ): Promise<EnqueueResult[]> {
    if (!Array.isArray(items))
      throw check.configError('items', items, 'an array of { payload, ...options }');
    check.knownKeys('enqueueMany', check.plainObject('enqueueMany', options), ['tx']);
    const { tx } = options;
    if (
      tx !== undefined &&
      (typeof tx !== 'object' ||
        tx === null ||
        typeof (tx as { query?: unknown }).query !== 'function')
    ) {
      throw check.configError(
        'tx',
        tx,
        'a node-postgres client inside BEGIN, or an object with query(text, values)',
      );
    }
    const now = this.clock.wallTime();
    const jobs = items.map((item, index) => toNewJob(this.name, item, index, items.length, now));
    if (jobs.length === 0) return [];
    const storeOptions = tx === undefined ? undefined : { tx };
    const results =
      this.interceptors.size === 0
        ? await this.store.enqueue(jobs, now, storeOptions)
        : await this.interceptedEnqueue(jobs, now, storeOptions);
    // A job written in the caller's transaction may still roll back: workers hear of it from the store on commit.
    if (tx === undefined && this.events.has('enqueued'))
      this.events.emit('enqueued', { queue: this.name, ids: results.map((r) => r.id) });
    return results;
  }

  /**
   * Wraps every enqueue of this queue from now on: `interceptor(call, proceed)` must call
   * `proceed()` once and return its result. This is how `faultline/otel` makes a span of each
   * enqueue and puts its trace context into the jobs' headers. Returns a function that removes it.
   */
  intercept(interceptor: EnqueueInterceptor): () => void {
    return this.interceptors.add(interceptor);
  }

  private interceptedEnqueue(
    jobs: NewJob[],
    now: number,
    storeOptions: StoreEnqueueOptions | undefined,
  ): Promise<EnqueueResult[]> {
    const call: EnqueueCall = {
      queue: this.name,
      headers: jobs.map((job) => ({ ...parseHeaders(job.headers) })),
    };
    return this.interceptors.run(call, () => {
      const withHeaders = jobs.map((job, i) => {
        const text = headersText(
          jobs.length === 1 ? 'headers' : `items[${i}].headers`,
          call.headers[i],
        );
        const { headers: _old, ...rest } = job;
        return text === undefined ? rest : { ...rest, headers: text };
      });
      return this.store.enqueue(withHeaders, now, storeOptions);
    });
  }

  async stats(): Promise<QueueStats> {
    const now = this.clock.wallTime();
    const counts = await this.store.stats(this.name, now);
    return {
      queue: this.name,
      ...counts,
      oldestWaitingAgeMs:
        counts.oldestWaitingSince === null ? null : Math.max(0, now - counts.oldestWaitingSince),
    };
  }

  /** Healthy with the sizes when the store answers; unhealthy with the error when it does not. Never throws. */
  async health(): Promise<QueueHealth> {
    try {
      await this.store.ping();
      return { status: 'healthy', store: this.store.kind, ...(await this.stats()) };
    } catch (error) {
      return { status: 'unhealthy', store: this.store.kind, queue: this.name, error };
    }
  }

  /** Stops every worker of this queue from claiming, until `resume()` or the given time. */
  async pause(
    options: { readonly forMs?: number; readonly until?: number | Date } = {},
  ): Promise<void> {
    const opts = check.plainObject('pause', options);
    check.knownKeys('pause', opts, ['forMs', 'until']);
    const now = this.clock.wallTime();
    let until: number | null = null;
    if (options.forMs !== undefined) until = now + check.nonNegativeNumber('forMs', options.forMs);
    if (options.until !== undefined) until = toEpoch('until', options.until);
    await this.store.pause(this.name, until, now, true);
    this.events.emit('paused', { queue: this.name, until });
  }

  async resume(): Promise<void> {
    await this.store.resume(this.name);
    this.events.emit('resumed', { queue: this.name });
  }

  /** One job of this queue by id with its payload as stored (JSON text), or undefined (also for another queue's job). */
  async getJob(id: string): Promise<JobRecord | undefined> {
    const job = await this.store.getJob(id);
    return job?.queue === this.name ? job : undefined;
  }

  /** Dead letters of this queue, newest first. */
  async deadLetters(filter: DeadLetterFilter = {}): Promise<DeadLetterView<P>[]> {
    const letters = await this.store.listDead(
      deadLetterQuery(this.name, filter, this.clock.wallTime()),
    );
    return letters.map((letter) => viewDeadLetter<P>(letter));
  }

  /**
   * Puts dead letters back to waiting, by id (an unknown id throws JobNotFoundError and nothing
   * is requeued) or by filter. With `dryRun`, returns what would be requeued and changes nothing.
   */
  async requeue(
    selector: string | readonly string[] | DeadLetterFilter,
    options: { readonly dryRun?: boolean } = {},
  ): Promise<string[]> {
    const now = this.clock.wallTime();
    const dryRun = options.dryRun ?? false;
    if (typeof selector === 'string' || Array.isArray(selector)) {
      const ids = typeof selector === 'string' ? [selector] : (selector as readonly string[]);
      return this.store.requeueDead({ ids }, { now, dryRun });
    }
    return this.store.requeueDead(
      { query: deadLetterQuery(this.name, selector as DeadLetterFilter, this.clock.wallTime()) },
      { now, dryRun },
    );
  }

  /** Deletes dead letters older than `olderThanMs`, and/or all but the newest `keepNewest`. */
  async purgeDead(options: {
    readonly olderThanMs?: number;
    readonly keepNewest?: number;
    readonly category?: FaultCategory;
  }): Promise<number> {
    const opts = check.plainObject('purge', options);
    check.knownKeys('purge', opts, ['olderThanMs', 'keepNewest', 'category']);
    const now = this.clock.wallTime();
    return this.store.purgeDead({
      queue: this.name,
      ...(options.category === undefined
        ? {}
        : { category: check.category('category', options.category) }),
      ...(options.olderThanMs === undefined
        ? {}
        : { olderThan: now - check.nonNegativeNumber('olderThanMs', options.olderThanMs) }),
      ...(options.keepNewest === undefined
        ? {}
        : { keepNewest: check.nonNegativeInteger('keepNewest', options.keepNewest) }),
    });
  }

  /** Applies the retention policy now (workers call this periodically). */
  async prune(): Promise<{ completed: number; dead: number }> {
    return this.store.prune(this.retention, this.clock.wallTime());
  }
}

export function viewDeadLetter<P>(letter: DeadLetter): DeadLetterView<P> {
  const { payload, checkpoint, ...rest } = letter;
  return {
    ...rest,
    payload: JSON.parse(payload) as P,
    ...(checkpoint === undefined ? {} : { checkpoint: fromJsonText(checkpoint) }),
  };
}
