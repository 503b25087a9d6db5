import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { loadPeer } from '../../peers/optional-peer.js';
import { systemClock } from '../../time/system-clock.js';
import type { CancelTimer, Clock } from '../../time/clock.js';
import type { CheckpointerEvents } from '../../durable/checkpointer.js';
import type { Emitter } from '../events.js';
import type { FaultlineMetricsOptions } from './metrics-options.js';
import {
  type BulkheadStatsSource,
  categoryOf,
  type ObservedBreakerEvents,
  type ObservedHealthEvents,
  type ObservedRetryEvents,
  type ObservedWorkerEvents,
  type QueueStatsSource,
} from './observed-sources.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

/**
 * Prometheus metrics for faultline, fed by the events of policies and workers (no polling of
 * them) and, for queue sizes, by a cache refreshed on an unref'd clock timer — a scrape never
 * scans the store.
 */

export type { FaultlineMetricsOptions } from './metrics-options.js';

export type {
  BulkheadStatsSource,
  ObservedBreakerEvents,
  ObservedBulkheadEvents,
  ObservedHealthEvents,
  ObservedRetryEvents,
  ObservedWorkerEvents,
  QueueStatsSource,
} from './observed-sources.js';

const BREAKER_STATES = ['closed', 'open', 'halfOpen', 'isolated'] as const;
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

export class FaultlineMetrics {
  readonly registry: Registry;
  private readonly clock: Clock;
  private readonly detachers: (() => void)[] = [];
  private readonly bulkheads = new Map<string, BulkheadStatsSource>();

  private readonly attempts: Counter<'source' | 'outcome'>;
  private readonly retries: Counter<'source' | 'category'>;
  private readonly failures: Counter<'source' | 'category'>;
  private readonly rejections: Counter<'source'>;
  private readonly breakerState: Gauge<'breaker' | 'state'>;
  private readonly breakerTransitions: Counter<'breaker' | 'to'>;
  private readonly jobs: Counter<'queue' | 'outcome'>;
  private readonly jobDuration: Histogram<'queue' | 'outcome'>;
  private readonly pauses: Counter<'queue'>;
  private readonly leaseLosses: Counter<'queue'>;
  private readonly deadLetters: Counter<'queue' | 'category'>;
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly oldestWaiting: Gauge<'queue'>;
  private readonly queuePaused: Gauge<'queue'>;
  private readonly queueRefreshErrors: Counter<'queue'>;
  private readonly healthChecks: Counter<'monitor' | 'outcome'>;
  private readonly healthFailing: Gauge<'monitor'>;
  private readonly healthUnstable: Gauge<'monitor'>;
  private readonly checkpointSaves: Counter<'checkpoint' | 'trigger'>;
  private readonly checkpointFailures: Counter<'checkpoint'>;
  private readonly checkpointLastSave: Gauge<'checkpoint'>;

  constructor(options: FaultlineMetricsOptions = {}) {
    // prom-client is loaded here, not on import: a missing one is a MissingPeerError.
    const { Counter, Gauge, Histogram, Registry } = loadPeer<typeof PromClient>('prom-client');
    this.registry = options.registry ?? new Registry();
    this.clock = options.clock ?? systemClock;
    const p = options.prefix ?? 'faultline_';
    const registers = [this.registry];
    const bulkheads = this.bulkheads;
    this.attempts = new Counter({
      name: `${p}attempts_total`,
      help: 'Calls attempted through a retry policy or a worker, by outcome',
      labelNames: ['source', 'outcome'],
      registers,
    });
    this.retries = new Counter({
      name: `${p}retries_total`,
      help: 'Failed attempts that were retried, by fault category',
      labelNames: ['source', 'category'],
      registers,
    });
    this.failures = new Counter({
      name: `${p}failures_total`,
      help: 'Operations that failed for good (gave up, skipped, aborted), by fault category',
      labelNames: ['source', 'category'],
      registers,
    });
    this.rejections = new Counter({
      name: `${p}rejections_total`,
      help: 'Calls refused without running (open circuit, full bulkhead, no token)',
      labelNames: ['source'],
      registers,
    });
    this.breakerState = new Gauge({
      name: `${p}circuit_state`,
      help: 'Circuit breaker state: 1 for the current state, 0 for the others',
      labelNames: ['breaker', 'state'],
      registers,
    });
    this.breakerTransitions = new Counter({
      name: `${p}circuit_transitions_total`,
      help: 'Circuit breaker state changes, by new state',
      labelNames: ['breaker', 'to'],
      registers,
    });
    // Read at scrape time from the bulkheads' in-memory stats.
    new Gauge({
      name: `${p}bulkhead_queued`,
      help: 'Callers waiting for a bulkhead slot',
      labelNames: ['bulkhead'],
      registers,
      collect() {
        for (const [name, b] of bulkheads) this.set({ bulkhead: name }, b.stats().queued ?? 0);
      },
    });
    new Gauge({
      name: `${p}bulkhead_active`,
      help: 'Calls running inside a bulkhead',
      labelNames: ['bulkhead'],
      registers,
      collect() {
        for (const [name, b] of bulkheads) this.set({ bulkhead: name }, b.stats().active ?? 0);
      },
    });
    this.jobs = new Counter({
      name: `${p}jobs_total`,
      help: 'Durable job runs by outcome (completed, retried, dead, released)',
      labelNames: ['queue', 'outcome'],
      registers,
    });
    this.jobDuration = new Histogram({
      name: `${p}job_duration_seconds`,
      help: 'Duration of durable job runs',
      labelNames: ['queue', 'outcome'],
      buckets: [...(options.durationBuckets ?? DEFAULT_BUCKETS)],
      registers,
    });
    this.pauses = new Counter({
      name: `${p}pauses_total`,
      help: 'Queue-wide pauses (rate limits)',
      labelNames: ['queue'],
      registers,
    });
    this.leaseLosses = new Counter({
      name: `${p}lease_losses_total`,
      help: 'Jobs whose lease a worker lost',
      labelNames: ['queue'],
      registers,
    });
    this.deadLetters = new Counter({
      name: `${p}dead_letters_total`,
      help: 'Jobs dead-lettered, by fault category',
      labelNames: ['queue', 'category'],
      registers,
    });
    this.queueJobs = new Gauge({
      name: `${p}queue_jobs`,
      help: 'Jobs in a queue by state (cached; refreshed on a timer)',
      labelNames: ['queue', 'state'],
      registers,
    });
    this.oldestWaiting = new Gauge({
      name: `${p}queue_oldest_waiting_seconds`,
      help: 'Age of the oldest runnable job (cached)',
      labelNames: ['queue'],
      registers,
    });
    this.queuePaused = new Gauge({
      name: `${p}queue_paused`,
      help: '1 while the queue is paused (cached)',
      labelNames: ['queue'],
      registers,
    });
    this.healthChecks = new Counter({
      name: `${p}health_checks_total`,
      help: 'Health checks of a monitored dependency, by outcome',
      labelNames: ['monitor', 'outcome'],
      registers,
    });
    this.healthFailing = new Gauge({
      name: `${p}health_failing`,
      help: '1 while a health monitor is in failing mode',
      labelNames: ['monitor'],
      registers,
    });
    this.healthUnstable = new Gauge({
      name: `${p}health_unstable`,
      help: '1 while a health monitor sees flapping',
      labelNames: ['monitor'],
      registers,
    });
    this.checkpointSaves = new Counter({
      name: `${p}checkpoint_saves_total`,
      help: 'Checkpoints written, by trigger (due: every N items or ms; flush: pause, abort, shutdown)',
      labelNames: ['checkpoint', 'trigger'],
      registers,
    });
    this.checkpointFailures = new Counter({
      name: `${p}checkpoint_save_failures_total`,
      help: 'Checkpoint writes that failed',
      labelNames: ['checkpoint'],
      registers,
    });
    this.checkpointLastSave = new Gauge({
      name: `${p}checkpoint_last_save_timestamp_seconds`,
      help: 'Wall-clock time of the last checkpoint written',
      labelNames: ['checkpoint'],
      registers,
    });
    this.queueRefreshErrors = new Counter({
      name: `${p}queue_refresh_errors_total`,
      help: 'Failed refreshes of the cached queue sizes',
      labelNames: ['queue'],
      registers,
    });
  }

  /** Counts attempts, retries and failures by category from a retry policy's events. */
  observeRetry(policy: Emitter<ObservedRetryEvents>, name: string): this {
    const hub = policy.events;
    this.detachers.push(
      hub.on('retry', (e) => {
        this.attempts.inc({ source: name, outcome: 'failure' });
        this.retries.inc({ source: name, category: categoryOf(e) });
      }),
      hub.on('success', () => this.attempts.inc({ source: name, outcome: 'success' })),
      hub.on('giveUp', (e) => {
        if (e.reason !== 'cancelled') this.attempts.inc({ source: name, outcome: 'failure' });
        this.failures.inc({ source: name, category: categoryOf(e) });
      }),
    );
    return this;
  }

  /** Tracks a circuit breaker's state and its rejections. */
  observeBreaker(
    breaker: Emitter<ObservedBreakerEvents> & { readonly state?: string },
    name: string,
  ): this {
    const hub = breaker.events;
    this.setBreakerState(name, typeof breaker.state === 'string' ? breaker.state : 'closed');
    this.detachers.push(
      hub.on('stateChange', (e) => {
        const to = String(e.to);
        this.setBreakerState(name, to);
        this.breakerTransitions.inc({ breaker: name, to });
      }),
      hub.on('rejected', () => this.rejections.inc({ source: name })),
    );
    return this;
  }

  /** Reports a bulkhead's running and queued calls (read from `stats()` at scrape time) and its rejections. */
  observeBulkhead(bulkhead: BulkheadStatsSource, name: string): this {
    this.bulkheads.set(name, bulkhead);
    const hub = bulkhead.events;
    this.detachers.push(
      hub.on('rejected', () => this.rejections.inc({ source: name })),
      () => this.bulkheads.delete(name),
    );
    return this;
  }

  /** Counts a durable worker's job runs, durations, pauses, lease losses and dead letters. */
  observeWorker(worker: Emitter<ObservedWorkerEvents>, queue: string): this {
    const hub = worker.events;
    const run = (outcome: string) => (e: object) => {
      this.jobs.inc({ queue, outcome });
      this.attempts.inc({
        source: queue,
        outcome: outcome === 'completed' ? 'success' : 'failure',
      });
      const ms = 'durationMs' in e && typeof e.durationMs === 'number' ? e.durationMs : undefined;
      if (ms !== undefined) this.jobDuration.observe({ queue, outcome }, ms / 1000);
    };
    this.detachers.push(
      hub.on('completed', run('completed')),
      hub.on('retry', (e) => {
        run('retried')(e);
        this.retries.inc({ source: queue, category: categoryOf(e) });
      }),
      hub.on('giveUp', (e) => {
        run('dead')(e);
        this.deadLetters.inc({ queue, category: categoryOf(e) });
        this.failures.inc({ source: queue, category: categoryOf(e) });
      }),
      hub.on('paused', () => this.pauses.inc({ queue })),
      hub.on('leaseLost', () => this.leaseLosses.inc({ queue })),
    );
    return this;
  }

  /** Follows a health monitor: checks by outcome, failures by category, failing mode and flapping. */
  observeHealth(
    monitor: Emitter<ObservedHealthEvents> & {
      readonly mode?: string;
      readonly unstable?: boolean;
    },
    name: string,
  ): this {
    const hub = monitor.events;
    this.healthFailing.set({ monitor: name }, monitor.mode === 'failing' ? 1 : 0);
    this.healthUnstable.set({ monitor: name }, monitor.unstable === true ? 1 : 0);
    this.detachers.push(
      hub.on('result', (e) => {
        this.healthChecks.inc({ monitor: name, outcome: e.ok === true ? 'success' : 'failure' });
        if (e.ok !== true) this.failures.inc({ source: name, category: categoryOf(e) });
      }),
      hub.on('modeChange', (e) =>
        this.healthFailing.set({ monitor: name }, e.to === 'failing' ? 1 : 0),
      ),
      hub.on('flapping', (e) =>
        this.healthUnstable.set({ monitor: name }, e.unstable === true ? 1 : 0),
      ),
    );
    return this;
  }

  /** Counts a checkpointer's saves (by trigger) and failed saves, and keeps the time of the last save. */
  observeCheckpoints(checkpointer: Emitter<CheckpointerEvents>, name: string): this {
    const hub = checkpointer.events;
    this.detachers.push(
      hub.on('checkpointSaved', (e) => {
        this.checkpointSaves.inc({ checkpoint: name, trigger: String(e.trigger ?? 'due') });
        this.checkpointLastSave.set({ checkpoint: name }, this.clock.wallTime() / 1000);
      }),
      hub.on('checkpointFailed', () => this.checkpointFailures.inc({ checkpoint: name })),
    );
    return this;
  }

  /**
   * Keeps the queue's sizes, pause state and oldest waiting age in gauges, refreshed every
   * `refreshMs` (default 5 s) on an unref'd timer. Scrapes read the cached values.
   */
  observeQueue(queue: QueueStatsSource, options: { readonly refreshMs?: number } = {}): this {
    const refreshMs = options.refreshMs ?? 5000;
    let cancel: CancelTimer | undefined;
    let stopped = false;
    const refresh = async () => {
      try {
        const s = await queue.stats();
        const now = this.clock.wallTime();
        for (const state of ['waiting', 'delayed', 'running', 'completed', 'dead'] as const)
          this.queueJobs.set({ queue: queue.name, state }, s[state]);
        this.oldestWaiting.set(
          { queue: queue.name },
          s.oldestWaitingSince === null ? 0 : Math.max(0, (now - s.oldestWaitingSince) / 1000),
        );
        this.queuePaused.set(
          { queue: queue.name },
          s.pausedUntil !== null && s.pausedUntil > now ? 1 : 0,
        );
      } catch {
        this.queueRefreshErrors.inc({ queue: queue.name });
      }
      if (!stopped) cancel = this.clock.schedule(refreshMs, () => void refresh(), { unref: true });
    };
    void refresh();
    this.detachers.push(() => {
      stopped = true;
      cancel?.();
    });
    return this;
  }

  /** The exposition text for a scrape. */
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Unsubscribes from every source and stops the refresh timers. Metrics stay registered. */
  /** `await using` calls `close()`. */
  async [asyncDispose](): Promise<void> {
    this.close();
  }

  close(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }

  private setBreakerState(name: string, current: string): void {
    for (const state of BREAKER_STATES)
      this.breakerState.set({ breaker: name, state }, state === current ? 1 : 0);
  }
}
