import type {
  Counter,
  Histogram,
  Meter,
  MeterProvider,
  ObservableResult,
} from '@opentelemetry/api';
import { otelApi } from './api.js';
import * as check from '../../validate/validate.js';
import type { CancelTimer, Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import type { Emitter } from '../events.js';
import type {
  BulkheadStatsSource,
  ObservedBreakerEvents,
  ObservedHealthEvents,
  ObservedRetryEvents,
  ObservedWorkerEvents,
  QueueStatsSource,
} from '../prometheus/observed-sources.js';
import { categoryOf } from '../prometheus/observed-sources.js';
import { INSTRUMENTATION_NAME } from './tracer.js';

/**
 * The Prometheus adapter's metrics (`faultline/prometheus`) through the OpenTelemetry metrics
 * API, so a team on OpenTelemetry needs no prom-client. Names follow OTel's conventions (dots,
 * no `_total` or unit suffix — an exporter adds them; units as UCUM), labels are the same
 * attributes: `faultline_jobs_total{queue,outcome}` is `faultline.jobs{queue,outcome}`.
 * Counters are fed by events; gauges are observed at collection time from in-memory state,
 * and queue sizes from a cache refreshed on an unref'd clock timer (a collection never
 * touches the store).
 */
export interface FaultlineOtelMetricsOptions {
  /**
   * The meter to use.
   * @defaultValue `meterProvider.getMeter('faultline')`
   */
  readonly meter?: Meter;
  /**
   * e. whatever the SDK registered.
   * @defaultValue the global provider, i
   */
  readonly meterProvider?: MeterProvider;
  /**
   * Prefix of every instrument name.
   * @defaultValue `faultline.`
   */
  readonly prefix?: string;
  /**
   * Timer source for queue-size refreshes.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Histogram buckets of job durations, in seconds.
   * @defaultValue the Prometheus adapter's
   */
  readonly durationBuckets?: readonly number[];
}

type Labels = Record<string, string>;

const BREAKER_STATES = ['closed', 'open', 'halfOpen', 'isolated'] as const;
const QUEUE_STATES = ['waiting', 'delayed', 'running', 'completed', 'dead'] as const;
const DEFAULT_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

interface QueueSnapshot {
  readonly counts: Readonly<Record<(typeof QUEUE_STATES)[number], number>>;
  readonly oldestSeconds: number;
  readonly paused: number;
}

export class FaultlineOtelMetrics {
  readonly meter: Meter;
  private readonly clock: Clock;
  private readonly detachers: (() => void)[] = [];
  private readonly breakers = new Map<string, string>();
  private readonly bulkheads = new Map<string, BulkheadStatsSource>();
  private readonly queues = new Map<string, QueueSnapshot>();
  private readonly health = new Map<string, { failing: number; unstable: number }>();

  private readonly attempts: Counter;
  private readonly retries: Counter;
  private readonly failures: Counter;
  private readonly rejections: Counter;
  private readonly breakerTransitions: Counter;
  private readonly jobs: Counter;
  private readonly jobDuration: Histogram;
  private readonly pauses: Counter;
  private readonly leaseLosses: Counter;
  private readonly deadLetters: Counter;
  private readonly queueRefreshErrors: Counter;
  private readonly healthChecks: Counter;

  constructor(options: FaultlineOtelMetricsOptions = {}) {
    check.knownKeys('FaultlineOtelMetrics', check.plainObject('options', options), [
      'meter',
      'meterProvider',
      'prefix',
      'clock',
      'durationBuckets',
    ]);
    this.meter =
      options.meter ??
      (options.meterProvider ?? otelApi().metrics.getMeterProvider()).getMeter(
        INSTRUMENTATION_NAME,
      );
    this.clock = options.clock ?? systemClock;
    const p = options.prefix ?? 'faultline.';
    const m = this.meter;
    this.attempts = m.createCounter(`${p}attempts`, {
      description: 'Calls attempted through a retry policy or a worker, by outcome',
      unit: '{attempt}',
    });
    this.retries = m.createCounter(`${p}retries`, {
      description: 'Failed attempts that were retried, by fault category',
      unit: '{retry}',
    });
    this.failures = m.createCounter(`${p}failures`, {
      description: 'Operations that failed for good (gave up, skipped, aborted), by fault category',
      unit: '{failure}',
    });
    this.rejections = m.createCounter(`${p}rejections`, {
      description: 'Calls refused without running (open circuit, full bulkhead, no token)',
      unit: '{call}',
    });
    this.breakerTransitions = m.createCounter(`${p}circuit.transitions`, {
      description: 'Circuit breaker state changes, by new state',
      unit: '{transition}',
    });
    this.jobs = m.createCounter(`${p}jobs`, {
      description: 'Durable job runs by outcome (completed, retried, dead)',
      unit: '{run}',
    });
    this.jobDuration = m.createHistogram(`${p}job.duration`, {
      description: 'Duration of durable job runs',
      unit: 's',
      advice: { explicitBucketBoundaries: [...(options.durationBuckets ?? DEFAULT_BUCKETS)] },
    });
    this.pauses = m.createCounter(`${p}pauses`, {
      description: 'Queue-wide pauses (rate limits)',
      unit: '{pause}',
    });
    this.leaseLosses = m.createCounter(`${p}lease_losses`, {
      description: 'Jobs whose lease a worker lost',
      unit: '{job}',
    });
    this.deadLetters = m.createCounter(`${p}dead_letters`, {
      description: 'Jobs dead-lettered, by fault category',
      unit: '{job}',
    });
    this.queueRefreshErrors = m.createCounter(`${p}queue.refresh_errors`, {
      description: 'Failed refreshes of the cached queue sizes',
      unit: '{error}',
    });
    this.healthChecks = m.createCounter(`${p}health.checks`, {
      description: 'Health checks of a monitored dependency, by outcome',
      unit: '{check}',
    });

    const gauge = (
      name: string,
      description: string,
      unit: string,
      observe: (result: ObservableResult) => void,
    ) => m.createObservableGauge(`${p}${name}`, { description, unit }).addCallback(observe);
    gauge(
      'circuit.state',
      'Circuit breaker state: 1 for the current state, 0 for the others',
      '1',
      (r) => {
        for (const [breaker, current] of this.breakers)
          for (const state of BREAKER_STATES)
            r.observe(state === current ? 1 : 0, { breaker, state });
      },
    );
    gauge('bulkhead.active', 'Calls running inside a bulkhead', '{call}', (r) => {
      for (const [bulkhead, b] of this.bulkheads) r.observe(b.stats().active ?? 0, { bulkhead });
    });
    gauge('bulkhead.queued', 'Callers waiting for a bulkhead slot', '{call}', (r) => {
      for (const [bulkhead, b] of this.bulkheads) r.observe(b.stats().queued ?? 0, { bulkhead });
    });
    gauge('queue.jobs', 'Jobs in a queue by state (cached; refreshed on a timer)', '{job}', (r) => {
      for (const [queue, s] of this.queues)
        for (const state of QUEUE_STATES) r.observe(s.counts[state], { queue, state });
    });
    gauge('queue.oldest_waiting', 'Age of the oldest runnable job (cached)', 's', (r) => {
      for (const [queue, s] of this.queues) r.observe(s.oldestSeconds, { queue });
    });
    gauge('queue.paused', '1 while the queue is paused (cached)', '1', (r) => {
      for (const [queue, s] of this.queues) r.observe(s.paused, { queue });
    });
    gauge('health.failing', '1 while a health monitor is in failing mode', '1', (r) => {
      for (const [monitor, h] of this.health) r.observe(h.failing, { monitor });
    });
    gauge('health.unstable', '1 while a health monitor sees flapping', '1', (r) => {
      for (const [monitor, h] of this.health) r.observe(h.unstable, { monitor });
    });
  }

  /** Counts attempts, retries and failures by category from a retry policy's events. */
  observeRetry(policy: Emitter<ObservedRetryEvents>, name: string): this {
    const hub = policy.events;
    this.detachers.push(
      hub.on('retry', (e) => {
        this.attempts.add(1, { source: name, outcome: 'failure' });
        this.retries.add(1, { source: name, category: categoryOf(e) });
      }),
      hub.on('success', () => this.attempts.add(1, { source: name, outcome: 'success' })),
      hub.on('giveUp', (e) => {
        if (e.reason !== 'cancelled') this.attempts.add(1, { source: name, outcome: 'failure' });
        this.failures.add(1, { source: name, category: categoryOf(e) });
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
    this.breakers.set(name, typeof breaker.state === 'string' ? breaker.state : 'closed');
    this.detachers.push(
      hub.on('stateChange', (e) => {
        const to = String(e.to);
        this.breakers.set(name, to);
        this.breakerTransitions.add(1, { breaker: name, to });
      }),
      hub.on('rejected', () => this.rejections.add(1, { source: name })),
      () => this.breakers.delete(name),
    );
    return this;
  }

  /** Reports a bulkhead's running and queued calls (read from `stats()` at collection) and its rejections. */
  observeBulkhead(bulkhead: BulkheadStatsSource, name: string): this {
    this.bulkheads.set(name, bulkhead);
    const hub = bulkhead.events;
    this.detachers.push(
      hub.on('rejected', () => this.rejections.add(1, { source: name })),
      () => this.bulkheads.delete(name),
    );
    return this;
  }

  /** Counts a durable worker's job runs, durations, pauses, lease losses and dead letters. */
  observeWorker(worker: Emitter<ObservedWorkerEvents>, queue: string): this {
    const hub = worker.events;
    const run = (outcome: string, e: object) => {
      const labels: Labels = { queue, outcome };
      this.jobs.add(1, labels);
      this.attempts.add(1, {
        source: queue,
        outcome: outcome === 'completed' ? 'success' : 'failure',
      });
      if ('durationMs' in e && typeof e.durationMs === 'number')
        this.jobDuration.record(e.durationMs / 1000, labels);
    };
    this.detachers.push(
      hub.on('completed', (e) => run('completed', e)),
      hub.on('retry', (e) => {
        run('retried', e);
        this.retries.add(1, { source: queue, category: categoryOf(e) });
      }),
      hub.on('giveUp', (e) => {
        run('dead', e);
        this.deadLetters.add(1, { queue, category: categoryOf(e) });
        this.failures.add(1, { source: queue, category: categoryOf(e) });
      }),
      hub.on('paused', () => this.pauses.add(1, { queue })),
      hub.on('leaseLost', () => this.leaseLosses.add(1, { queue })),
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
    const state = {
      failing: monitor.mode === 'failing' ? 1 : 0,
      unstable: monitor.unstable === true ? 1 : 0,
    };
    this.health.set(name, state);
    this.detachers.push(
      hub.on('result', (e) => {
        this.healthChecks.add(1, { monitor: name, outcome: e.ok === true ? 'success' : 'failure' });
        if (e.ok !== true) this.failures.add(1, { source: name, category: categoryOf(e) });
      }),
      hub.on('modeChange', (e) => {
        state.failing = e.to === 'failing' ? 1 : 0;
      }),
      hub.on('flapping', (e) => {
        state.unstable = e.unstable === true ? 1 : 0;
      }),
      () => this.health.delete(name),
    );
    return this;
  }

  /**
   * Keeps the queue's sizes, pause state and oldest waiting age for the gauges, refreshed every
   * `refreshMs` (default 5 s) on an unref'd timer. Collections read the cached values.
   */
  observeQueue(queue: QueueStatsSource, options: { readonly refreshMs?: number } = {}): this {
    const refreshMs = check.positiveNumber('refreshMs', options.refreshMs ?? 5000);
    let cancel: CancelTimer | undefined;
    let stopped = false;
    const refresh = async () => {
      try {
        const s = await queue.stats();
        const now = this.clock.wallTime();
        if (!stopped) {
          this.queues.set(queue.name, {
            counts: {
              waiting: s.waiting,
              delayed: s.delayed,
              running: s.running,
              completed: s.completed,
              dead: s.dead,
            },
            oldestSeconds:
              s.oldestWaitingSince === null ? 0 : Math.max(0, (now - s.oldestWaitingSince) / 1000),
            paused: s.pausedUntil !== null && s.pausedUntil > now ? 1 : 0,
          });
        }
      } catch {
        this.queueRefreshErrors.add(1, { queue: queue.name });
      }
      if (!stopped) cancel = this.clock.schedule(refreshMs, () => void refresh(), { unref: true });
    };
    void refresh();
    this.detachers.push(() => {
      stopped = true;
      cancel?.();
      this.queues.delete(queue.name);
    });
    return this;
  }

  /** Unsubscribes from every source and stops the refresh timers; the gauges stop reporting them. */
  close(): void {
    for (const detach of this.detachers.splice(0)) detach();
  }
}
