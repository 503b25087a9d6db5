import { Checkpointer } from '../durable/checkpointer.js';
import { Queue } from '../durable/queue.js';
import type { DurableStore } from '../durable/store.js';
import { Worker } from '../durable/worker.js';
import type { WorkerSummary } from '../durable/worker-summary.js';
import { BrokenCircuitError } from '../faults/errors.js';
import { FAULT_CATEGORIES, type FaultCategory } from '../faults/fault.js';
import { type CircuitBreaker, circuitBreaker } from '../policies/circuit-breaker.js';
import { type Pipeline, pipeline } from '../policies/pipeline.js';
import { timeout } from '../policies/timeout.js';
import { constantBackoff, exponentialBackoff } from '../recovery/backoff.js';
import type { Decision } from '../recovery/plan.js';
import { type RecoveryPlan, recoveryPlan } from '../recovery/plan.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { API_TOKEN, ATTEMPT_HEADER, type ItemRecord } from './api.js';

/**
 * The crawler scenario: thousands of items from a durable queue. Invalid items and gone pages
 * are skipped, rate limits pause the whole queue (until the announced reset, or 15 minutes when
 * none is announced), network errors are retried 5 times at 1, 2, 4, 8 and 16 s and abort the
 * crawl (checkpoint saved) when those run out, bad credentials abort, and progress is
 * checkpointed (every 10 items, before a pause, at every stop) so a rerun resumes.
 */

export interface CrawlItem {
  readonly id: number;
}

export interface CrawlerOptions {
  readonly store: DurableStore;
  /** Base URL of the items API (`GET <apiUrl>/items/:id`). */
  readonly apiUrl: string;
  /** Items in a fresh crawl (ids 1..items). A resumed crawl keeps its own count. */
  readonly items: number;
  readonly queue?: string;
  /** Jobs at once (default 16). */
  readonly concurrency?: number;
  /**
   * Multiplies every wait of the plan (1 = the real 1 s, 2 s, 4 s ... schedule and 15-minute
   * pause). A server's Retry-After or reset time is never scaled down.
   */
  readonly timeScale?: number;
  /** Network retries after the first attempt (default 5, the system's `MAX_RETRIES`). */
  readonly maxRetries?: number;
  /** First network retry wait, doubling after each (default 1,000 ms, the system's `INITIAL_BACKOFF=1.0`). */
  readonly initialBackoffMs?: number;
  /** Deadline of one request; ends hangs (default 2,000 ms). */
  readonly requestTimeoutMs?: number;
  /** Lease of a claimed job (default: the worker's). */
  readonly leaseMs?: number;
  /** Sent as `Authorization: Bearer <token>` (default: the demo API's). */
  readonly token?: string;
  readonly clock?: Clock;
}

/** Progress that is not in the queue: how far seeding got, and the runs so far. */
export interface CrawlCheckpoint {
  /** Identifies one crawl; part of every job's idempotency key, so a new crawl re-enqueues. */
  readonly crawlId: string;
  readonly items: number;
  /** Completed jobs the queue already held when this crawl started (not this crawl's). */
  readonly completedBefore: number;
  /** Items 1..enqueued are in the queue. */
  readonly enqueued: number;
  readonly runs: number;
  /** Items finished (completed or dead) in all runs, as of the last save. */
  readonly done: number;
  readonly finished: boolean;
  readonly startedAt: number;
  readonly updatedAt: number;
}

export interface CrawlOutcome {
  readonly items: number;
  /** True when this run continued an unfinished crawl. */
  readonly resumed: boolean;
  /** The checkpoint before this run, if any. */
  readonly previous: CrawlCheckpoint | undefined;
  readonly checkpoint: CrawlCheckpoint;
  /** Every job is completed or dead. */
  readonly finished: boolean;
  /** Stopped by the caller's signal. */
  readonly interrupted: boolean;
  /** Stopped by an abort decision (bad credentials); its reason. */
  readonly abortedBy: Decision | undefined;
  readonly summary: WorkerSummary;
  readonly durationMs: number;
}

/** An item whose record fails validation: skipped, never retried. */
export class InvalidRecordError extends Error {
  readonly category = 'validation' as const;
  readonly retryable = false;
  constructor(
    readonly itemId: number,
    detail: string,
  ) {
    super(`Item ${itemId}: invalid record (${detail})`);
    this.name = 'InvalidRecordError';
  }
}

const ENQUEUE_BATCH = 250;
/** A rate limit that announces no reset pauses this long, as the system does. */
export const RATE_LIMIT_PAUSE_MS = 15 * 60_000;

export interface CrawlerPlanOptions {
  readonly timeScale?: number;
  readonly maxRetries?: number;
  readonly initialBackoffMs?: number;
}

/**
 * The crawler system's recovery table as a plan:
 *
 * | category | action |
 * |---|---|
 * | network, timeout | retry `maxRetries` times at 1, 2, 4, 8, 16 s (no jitter); exhausted → abort the crawl, checkpoint saved |
 * | unavailable (503) | the same retries; exhausted → dead letter (the API is overloaded, not unreachable; the breaker handles bursts) |
 * | rate_limit | pause the queue until the announced reset, else 15 minutes |
 * | auth | abort |
 * | validation, permanent | skip (dead letter with suggestions) |
 * | resource (out of memory, disk full) | abort (the system's FATAL) |
 *
 * Every wait is multiplied by `timeScale`; a server's reset time never is.
 */
export function crawlerPlan(options: CrawlerPlanOptions = {}): RecoveryPlan {
  const maxRetries = options.maxRetries ?? 5;
  const network = {
    action: 'retry',
    maxAttempts: maxRetries + 1,
    backoff: exponentialBackoff({
      initialMs: options.initialBackoffMs ?? 1_000,
      factor: 2,
      maxDelayMs: Number.MAX_SAFE_INTEGER,
      jitter: 'none',
    }),
    // The 16 s wait is the fifth retry's, whatever the scale: the plan's cap must not cut it.
    maxWaitMs: Number.POSITIVE_INFINITY,
    whenExhausted: 'abort',
  } as const;
  const scale = options.timeScale ?? 1;
  const delayMultipliers = Object.fromEntries(FAULT_CATEGORIES.map((c) => [c, scale])) as Record<
    FaultCategory,
    number
  >;
  return recoveryPlan({
    rules: {
      network,
      timeout: network,
      unavailable: { ...network, whenExhausted: 'give_up' },
      rate_limit: {
        action: 'pause',
        backoff: constantBackoff(RATE_LIMIT_PAUSE_MS),
        maxWaitMs: 2 * RATE_LIMIT_PAUSE_MS,
      },
    },
    delayMultipliers,
  });
}

export class Crawler {
  readonly queue: Queue<CrawlItem>;
  readonly worker: Worker<CrawlItem>;
  readonly breaker: CircuitBreaker;
  readonly plan: RecoveryPlan;
  readonly checkpointKey: string;
  /** Saves progress every 10 items (as the system) or 1 s, before a pause, at every seeding batch and stop. */
  readonly checkpoints: Checkpointer<CrawlCheckpoint>;
  private readonly calls: Pipeline;
  private readonly clock: Clock;
  /** How often a call held by a half-open circuit looks again. */
  private readonly circuitPollMs: number;
  private abortDecision: Decision | undefined;
  private readonly abortListeners: (() => void)[] = [];

  constructor(private readonly options: CrawlerOptions) {
    this.clock = options.clock ?? systemClock;
    const scale = options.timeScale ?? 1;
    this.queue = new Queue<CrawlItem>(options.store, options.queue ?? 'crawl', {
      clock: this.clock,
    });
    this.checkpointKey = `crawl:${this.queue.name}`;
    this.checkpoints = new Checkpointer<CrawlCheckpoint>(options.store, this.checkpointKey, {
      everyItems: 10,
      everyMs: 1_000,
      clock: this.clock,
    });
    this.plan = crawlerPlan({
      timeScale: scale,
      maxRetries: options.maxRetries,
      initialBackoffMs: options.initialBackoffMs,
    });
    this.circuitPollMs = Math.max(5, Math.round(1_000 * scale));
    this.breaker = circuitBreaker({
      name: 'items-api',
      trigger: { kind: 'consecutive', failures: 10 },
      // The breaker answers the API's overload (5xx bursts). Connection failures are the plan's:
      // an outage spends an item's 5 network retries and aborts the crawl, as the system does.
      ignoredCategories: ['validation', 'permanent', 'cancelled', 'network', 'timeout'],
      halfOpenAfter: Math.max(50, Math.round(10_000 * scale)),
      clock: this.clock,
    });
    this.calls = pipeline(
      this.breaker,
      timeout({ timeoutMs: options.requestTimeoutMs ?? 2_000, clock: this.clock }),
    );
    this.worker = new Worker<CrawlItem>(
      this.queue,
      (item, context) => this.crawl(item, context.signal, context.attempt),
      {
        concurrency: options.concurrency ?? 16,
        plan: this.plan,
        clock: this.clock,
        pollMs: 100,
        ...(options.leaseMs === undefined ? {} : { leaseMs: options.leaseMs }),
        onAbort: (decision) => {
          this.abortDecision = decision;
          for (const wake of this.abortListeners.splice(0)) wake();
        },
      },
    );
  }

  /**
   * Fetches and validates one item. Thrown errors go to the recovery plan, except an open
   * circuit: the call was not made, so the item waits for the breaker to let calls through
   * again instead of spending one of its attempts.
   */
  private async crawl(item: CrawlItem, signal: AbortSignal, attempt: number): Promise<ItemRecord> {
    for (;;) {
      try {
        return await this.calls.execute(
          ({ signal: callSignal }) => this.fetchItem(item.id, callSignal, attempt),
          {
            signal,
            operation: { name: 'fetch_item', attributes: { item: item.id } },
          },
        );
      } catch (error) {
        if (!(error instanceof BrokenCircuitError) || error.isolated || signal.aborted) throw error;
        await this.clock.sleep(Math.max(error.retryAfterMs ?? 0, this.circuitPollMs), signal);
      }
    }
  }

  private async fetchItem(id: number, signal: AbortSignal, attempt: number): Promise<ItemRecord> {
    const path = `/items/${id}`;
    const response = await fetch(`${this.options.apiUrl}${path}`, {
      signal,
      // The demo API fails some items on their first attempt only; it reads which one this is here.
      headers: {
        authorization: `Bearer ${this.options.token ?? API_TOKEN}`,
        [ATTEMPT_HEADER]: String(attempt),
      },
    });
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      // The classifier reads `status` and the Retry-After header from this shape.
      throw Object.assign(
        new Error(`GET ${path} answered ${response.status} ${response.statusText}`),
        {
          status: response.status,
          headers: response.headers,
        },
      );
    }
    const body = (await response.json()) as Partial<ItemRecord>;
    if (typeof body.title !== 'string' || typeof body.url !== 'string') {
      throw new InvalidRecordError(
        id,
        `missing ${typeof body.title !== 'string' ? 'title' : 'url'}`,
      );
    }
    return body as ItemRecord;
  }

  loadCheckpoint(): Promise<CrawlCheckpoint | undefined> {
    return this.checkpoints.load();
  }

  /** Records the state and writes it now (seeding batches, start and stop must not wait). */
  private async saveCheckpoint(checkpoint: CrawlCheckpoint): Promise<void> {
    await this.checkpoints.record(checkpoint);
    await this.checkpoints.flush();
  }

  /**
   * Runs until every item is completed or dead, `signal` aborts (Ctrl-C) or the plan aborts
   * (bad credentials). Always stops the worker gracefully and writes the checkpoint.
   */
  async run(signal?: AbortSignal, stopDeadlineMs = 5_000): Promise<CrawlOutcome> {
    const started = this.clock.now();
    const previous = await this.loadCheckpoint();
    const resumed = previous !== undefined && !previous.finished;
    let completedBefore = 0;
    if (!resumed) {
      // A new crawl: the previous crawl's dead letters go; its completed jobs are counted out.
      await this.options.store.purgeDead({ queue: this.queue.name });
      completedBefore = (await this.queue.stats()).completed;
    }
    const now = this.clock.wallTime();
    let checkpoint: CrawlCheckpoint = resumed
      ? { ...previous, updatedAt: now }
      : {
          crawlId: now.toString(36),
          items: this.options.items,
          completedBefore,
          enqueued: 0,
          runs: 0,
          done: 0,
          finished: false,
          startedAt: now,
          updatedAt: now,
        };
    await this.saveCheckpoint(checkpoint);
    // Every finished item moves the checkpoint; the checkpointer writes it when due.
    let done = checkpoint.done;
    const progress = () => {
      done++;
      this.checkpoints
        .record({ ...checkpoint, done, updatedAt: this.clock.wallTime() })
        .catch(() => undefined);
    };
    const offProgress = [
      this.worker.events.on('completed', progress),
      this.worker.events.on('giveUp', progress),
      // A rate limit pauses the whole queue: a good moment to make the progress durable.
      this.worker.events.on('paused', () => void this.checkpoints.flush().catch(() => undefined)),
    ];

    const stopRequested = new Promise<'stop'>((resolve) => {
      if (signal?.aborted) resolve('stop');
      signal?.addEventListener('abort', () => resolve('stop'), { once: true });
      this.abortListeners.push(() => resolve('stop'));
    });
    const stopped = () => signal?.aborted === true || this.abortDecision !== undefined;

    this.worker.start();
    // Seed in batches; idempotency keys make a repeated batch (after a crash) harmless.
    while (checkpoint.enqueued < checkpoint.items && !stopped()) {
      const from = checkpoint.enqueued + 1;
      const to = Math.min(checkpoint.items, checkpoint.enqueued + ENQUEUE_BATCH);
      const batch = [];
      for (let id = from; id <= to; id++)
        batch.push({ payload: { id }, idempotencyKey: `${checkpoint.crawlId}:item-${id}` });
      await this.queue.enqueueMany(batch);
      checkpoint = { ...checkpoint, enqueued: to, done, updatedAt: this.clock.wallTime() };
      await this.saveCheckpoint(checkpoint);
    }
    if (!stopped()) await Promise.race([this.worker.drained(), stopRequested]);

    const summary = await this.worker.stop({ deadlineMs: stopDeadlineMs });
    for (const off of offProgress) off();
    const counts = await this.queue.stats();
    const finished =
      checkpoint.enqueued === checkpoint.items &&
      counts.waiting + counts.delayed + counts.running === 0;
    checkpoint = {
      ...checkpoint,
      runs: checkpoint.runs + 1,
      done,
      finished,
      updatedAt: this.clock.wallTime(),
    };
    await this.saveCheckpoint(checkpoint);
    return {
      items: checkpoint.items,
      resumed,
      previous,
      checkpoint,
      finished,
      interrupted: signal?.aborted === true && !finished,
      abortedBy: this.abortDecision,
      summary,
      durationMs: this.clock.now() - started,
    };
  }
}
