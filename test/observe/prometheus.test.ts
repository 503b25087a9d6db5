import { afterEach, describe, expect, it } from 'vitest';
import { Events } from '../../src/index.js';
import {
  FaultlineMetrics,
  type MetricsServer,
  serveMetrics,
} from '../../src/observe/prometheus/index.js';
import { VirtualClock } from '../../src/testing/index.js';
import type { Fault } from '../../src/faults/fault.js';
import type {
  ObservedBreakerEvents,
  ObservedBulkheadEvents,
  ObservedRetryEvents,
  ObservedWorkerEvents,
} from '../../src/observe/prometheus/metrics.js';

/** The value of one series in exposition text, or undefined when absent. */
function series(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = /^([a-z_]+)(?:\{(.*)\})? (.+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const fault = (category: string) =>
  ({ category, message: category, retryable: true, suggestions: [] }) as unknown as Fault;
const operation = undefined;

describe('FaultlineMetrics', () => {
  let server: MetricsServer | undefined;
  let metrics: FaultlineMetrics | undefined;
  afterEach(async () => {
    metrics?.close();
    await server?.close();
    server = undefined;
  });

  it('counts retries, attempts and failures by category from a retry policy', async () => {
    metrics = new FaultlineMetrics();
    const events = new Events<ObservedRetryEvents>();
    metrics.observeRetry({ events }, 'fetch');
    const retry = { reason: 'r', operation };
    events.emit('retry', { ...retry, attempt: 1, delayMs: 10, fault: fault('network') });
    events.emit('retry', { ...retry, attempt: 2, delayMs: 20, fault: fault('rate_limit') });
    events.emit('success', { attempts: 3, totalDelayMs: 30, operation });
    events.emit('giveUp', {
      reason: 'skip',
      attempts: 1,
      totalDelayMs: 0,
      fault: fault('validation'),
      error: new Error('bad'),
      message: 'bad',
      operation,
    });
    const text = await metrics.metrics();
    expect(series(text, 'faultline_retries_total', { source: 'fetch', category: 'network' })).toBe(
      1,
    );
    expect(
      series(text, 'faultline_retries_total', { source: 'fetch', category: 'rate_limit' }),
    ).toBe(1);
    expect(series(text, 'faultline_attempts_total', { source: 'fetch', outcome: 'failure' })).toBe(
      3,
    );
    expect(series(text, 'faultline_attempts_total', { source: 'fetch', outcome: 'success' })).toBe(
      1,
    );
    expect(
      series(text, 'faultline_failures_total', { source: 'fetch', category: 'validation' }),
    ).toBe(1);
  });

  it('tracks breaker state, bulkhead queue and worker outcomes', async () => {
    metrics = new FaultlineMetrics({ prefix: 'app_' });
    const breaker = { events: new Events<ObservedBreakerEvents>(), state: 'closed' };
    const bulkheadStats = { active: 2, queued: 5 };
    const bulkhead = { events: new Events<ObservedBulkheadEvents>(), stats: () => bulkheadStats };
    const worker = { events: new Events<ObservedWorkerEvents>() };
    metrics
      .observeBreaker(breaker, 'api')
      .observeBulkhead(bulkhead, 'pool')
      .observeWorker(worker, 'crawl');
    let text = await metrics.metrics();
    expect(series(text, 'app_circuit_state', { breaker: 'api', state: 'closed' })).toBe(1);
    expect(series(text, 'app_bulkhead_queued', { bulkhead: 'pool' })).toBe(5);
    breaker.events.emit('stateChange', {
      breaker: 'api',
      from: 'closed',
      to: 'open',
      reason: '5 failures',
    } as ObservedBreakerEvents['stateChange']);
    breaker.events.emit('rejected', {
      breaker: 'api',
      state: 'open',
      retryAfterMs: 1_000,
    } as ObservedBreakerEvents['rejected']);
    bulkheadStats.queued = 1;
    const job = { queue: 'crawl', attempt: 1 };
    worker.events.emit('completed', { ...job, jobId: 'a', durationMs: 30 });
    worker.events.emit('retry', {
      ...job,
      jobId: 'b',
      delayMs: 5,
      fault: fault('network'),
      reason: 'network: retry',
    });
    worker.events.emit('giveUp', {
      jobId: 'c',
      queue: 'crawl',
      reason: 'skip',
      message: 'validation: not retried',
      attempts: 1,
      fault: fault('validation'),
    });
    worker.events.emit('paused', {
      queue: 'crawl',
      until: 1,
      delayMs: 1,
      fault: fault('rate_limit'),
    });
    worker.events.emit('leaseLost', { jobId: 'd', queue: 'crawl' });
    text = await metrics.metrics();
    expect(series(text, 'app_circuit_state', { breaker: 'api', state: 'closed' })).toBe(0);
    expect(series(text, 'app_circuit_state', { breaker: 'api', state: 'open' })).toBe(1);
    expect(series(text, 'app_circuit_transitions_total', { breaker: 'api', to: 'open' })).toBe(1);
    expect(series(text, 'app_rejections_total', { source: 'api' })).toBe(1);
    expect(series(text, 'app_bulkhead_queued', { bulkhead: 'pool' })).toBe(1);
    expect(series(text, 'app_bulkhead_active', { bulkhead: 'pool' })).toBe(2);
    expect(series(text, 'app_jobs_total', { queue: 'crawl', outcome: 'completed' })).toBe(1);
    expect(series(text, 'app_dead_letters_total', { queue: 'crawl', category: 'validation' })).toBe(
      1,
    );
    expect(series(text, 'app_pauses_total', { queue: 'crawl' })).toBe(1);
    expect(series(text, 'app_lease_losses_total', { queue: 'crawl' })).toBe(1);
    expect(
      series(text, 'app_job_duration_seconds_count', { queue: 'crawl', outcome: 'completed' }),
    ).toBe(1);
    expect(
      series(text, 'app_job_duration_seconds_bucket', {
        queue: 'crawl',
        outcome: 'completed',
        le: '0.05',
      }),
    ).toBe(1);
    expect(
      series(text, 'app_job_duration_seconds_bucket', {
        queue: 'crawl',
        outcome: 'completed',
        le: '0.025',
      }),
    ).toBe(0);
    metrics.close();
    worker.events.emit('completed', { ...job, jobId: 'e', durationMs: 1 });
    expect(
      series(await metrics.metrics(), 'app_jobs_total', { queue: 'crawl', outcome: 'completed' }),
    ).toBe(1);
  });

  it('caches queue sizes: a scrape reads the cache, the refresh runs on the clock', async () => {
    const clock = new VirtualClock({ wallStart: 1_000_000 });
    metrics = new FaultlineMetrics({ clock });
    let calls = 0;
    const sizes = {
      waiting: 10,
      delayed: 1,
      running: 2,
      completed: 0,
      dead: 0,
      pausedUntil: null as number | null,
      oldestWaitingSince: (1_000_000 - 4000) as number | null,
    };
    const stats = async () => {
      calls++;
      return { ...sizes };
    };
    metrics.observeQueue({ name: 'crawl', stats }, { refreshMs: 1000 });
    await Promise.resolve();
    await Promise.resolve();
    let text = await metrics.metrics();
    expect(calls).toBe(1);
    expect(series(text, 'faultline_queue_jobs', { queue: 'crawl', state: 'waiting' })).toBe(10);
    expect(series(text, 'faultline_queue_oldest_waiting_seconds', { queue: 'crawl' })).toBe(4);
    sizes.waiting = 3;
    sizes.pausedUntil = 1_000_000 + 60_000;
    for (let i = 0; i < 5; i++) await metrics.metrics();
    expect(calls).toBe(1);
    await clock.advance(1000);
    await Promise.resolve();
    text = await metrics.metrics();
    expect(calls).toBe(2);
    expect(series(text, 'faultline_queue_jobs', { queue: 'crawl', state: 'waiting' })).toBe(3);
    expect(series(text, 'faultline_queue_paused', { queue: 'crawl' })).toBe(1);
    metrics.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('serves /metrics over HTTP and 404 elsewhere', async () => {
    metrics = new FaultlineMetrics();
    const events = new Events<ObservedRetryEvents>();
    metrics.observeRetry({ events }, 'api');
    server = await serveMetrics(metrics, { port: 0 });
    const before = await (await fetch(server.url)).text();
    expect(
      series(before, 'faultline_retries_total', { source: 'api', category: 'timeout' }),
    ).toBeUndefined();
    events.emit('retry', {
      attempt: 1,
      delayMs: 1,
      fault: fault('timeout'),
      reason: 'r',
      operation,
    });
    const response = await fetch(server.url);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(
      series(await response.text(), 'faultline_retries_total', {
        source: 'api',
        category: 'timeout',
      }),
    ).toBe(1);
    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
  });
});
