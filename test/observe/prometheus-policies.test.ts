import { afterEach, describe, expect, it } from 'vitest';
import {
  constantBackoff,
  HealthMonitor,
  MemoryStore,
  Queue,
  retry,
  Worker,
} from '../../src/index.js';
import { FaultlineMetrics } from '../../src/observe/prometheus/index.js';
import { bulkhead } from '../../src/policies/bulkhead.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { VirtualClock } from '../../src/testing/index.js';

function series(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{(.*)\} (.+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) return Number(match[3]);
  }
  return undefined;
}

const networkError = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('FaultlineMetrics on the real policies and worker', () => {
  let metrics: FaultlineMetrics | undefined;
  afterEach(() => metrics?.close());

  it('retry, circuit breaker and bulkhead', async () => {
    const clock = new VirtualClock();
    metrics = new FaultlineMetrics({ clock });
    const withRetry = retry({ maxAttempts: 3, backoff: constantBackoff(10), clock });
    const breaker = circuitBreaker({
      name: 'api',
      trigger: { kind: 'consecutive', failures: 2 },
      halfOpenAfter: 1000,
      clock,
    });
    const pool = bulkhead({ maxConcurrent: 1, maxQueued: 1, name: 'pool' });
    metrics
      .observeRetry(withRetry, 'fetch')
      .observeBreaker(breaker, 'api')
      .observeBulkhead(pool, 'pool');

    let calls = 0;
    const result = withRetry.execute(() => {
      if (++calls < 3) throw networkError();
      return 'ok';
    });
    await clock.runAll();
    expect(await result).toBe('ok');

    for (let i = 0; i < 2; i++)
      await breaker.execute(() => Promise.reject(networkError())).catch(() => undefined);
    await breaker.execute(() => 'refused').catch(() => undefined);

    let release!: () => void;
    const held = pool.execute(() => new Promise<void>((resolve) => (release = resolve)));
    const waiting = pool.execute(() => undefined);
    await pool.execute(() => undefined).catch(() => undefined);

    const text = await metrics.metrics();
    expect(series(text, 'faultline_retries_total', { source: 'fetch', category: 'network' })).toBe(
      2,
    );
    expect(series(text, 'faultline_attempts_total', { source: 'fetch', outcome: 'success' })).toBe(
      1,
    );
    expect(series(text, 'faultline_attempts_total', { source: 'fetch', outcome: 'failure' })).toBe(
      2,
    );
    expect(series(text, 'faultline_circuit_state', { breaker: 'api', state: 'open' })).toBe(1);
    expect(
      series(text, 'faultline_circuit_transitions_total', { breaker: 'api', to: 'open' }),
    ).toBe(1);
    expect(series(text, 'faultline_rejections_total', { source: 'api' })).toBe(1);
    expect(series(text, 'faultline_bulkhead_active', { bulkhead: 'pool' })).toBe(1);
    expect(series(text, 'faultline_bulkhead_queued', { bulkhead: 'pool' })).toBe(1);
    expect(series(text, 'faultline_rejections_total', { source: 'pool' })).toBe(1);
    release();
    await Promise.all([held, waiting]);
    expect(series(await metrics.metrics(), 'faultline_bulkhead_queued', { bulkhead: 'pool' })).toBe(
      0,
    );
  });

  it('a durable worker: jobs by outcome, dead letters by category, durations, cached queue sizes', async () => {
    metrics = new FaultlineMetrics();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'jobs');
    const worker = new Worker(
      queue,
      ({ n }) => {
        if (n === 3) throw Object.assign(new Error('bad payload'), { category: 'validation' });
      },
      { concurrency: 2, pollMs: 20 },
    );
    metrics.observeWorker(worker, 'jobs');
    await queue.enqueueMany([1, 2, 3, 4].map((n) => ({ payload: { n } })));
    worker.start();
    await worker.drained();
    await worker.stop();
    metrics.observeQueue(queue, { refreshMs: 60_000 });
    // The first refresh is started at once; wait for it through a scrape loop bounded in count.
    let text = '';
    for (
      let i = 0;
      i < 100 &&
      series(text, 'faultline_queue_jobs', { queue: 'jobs', state: 'dead' }) === undefined;
      i++
    ) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      text = await metrics.metrics();
    }
    expect(series(text, 'faultline_jobs_total', { queue: 'jobs', outcome: 'completed' })).toBe(3);
    expect(
      series(text, 'faultline_dead_letters_total', { queue: 'jobs', category: 'validation' }),
    ).toBe(1);
    expect(
      series(text, 'faultline_job_duration_seconds_count', { queue: 'jobs', outcome: 'completed' }),
    ).toBe(3);
    expect(series(text, 'faultline_queue_jobs', { queue: 'jobs', state: 'completed' })).toBe(3);
    expect(series(text, 'faultline_queue_jobs', { queue: 'jobs', state: 'dead' })).toBe(1);
    expect(series(text, 'faultline_queue_jobs', { queue: 'jobs', state: 'waiting' })).toBe(0);
    await store.close();
  });

  it('a health monitor: checks, failures by category, failing mode', async () => {
    const clock = new VirtualClock();
    metrics = new FaultlineMetrics({ clock });
    const monitor = new HealthMonitor({
      name: 'status',
      failureThreshold: 2,
      stabilityThreshold: 1,
      clock,
      flapping: false,
    });
    metrics.observeHealth(monitor, 'status');
    monitor.recordFailure(Object.assign(new Error('HTTP 503'), { status: 503 }));
    monitor.recordFailure(Object.assign(new Error('HTTP 503'), { status: 503 }));
    let text = await metrics.metrics();
    expect(series(text, 'faultline_health_failing', { monitor: 'status' })).toBe(1);
    expect(
      series(text, 'faultline_health_checks_total', { monitor: 'status', outcome: 'failure' }),
    ).toBe(2);
    expect(
      series(text, 'faultline_failures_total', { source: 'status', category: 'unavailable' }),
    ).toBe(2);
    monitor.recordSuccess();
    text = await metrics.metrics();
    expect(series(text, 'faultline_health_failing', { monitor: 'status' })).toBe(0);
    expect(
      series(text, 'faultline_health_checks_total', { monitor: 'status', outcome: 'success' }),
    ).toBe(1);
  });
});
