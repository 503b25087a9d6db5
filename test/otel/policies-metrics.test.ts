import { context, trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { FaultlineOtelMetrics, tracePolicy } from '../../src/observe/otel/index.js';
import { bulkhead } from '../../src/policies/bulkhead.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { pipeline } from '../../src/policies/pipeline.js';
import { retry } from '../../src/policies/retry.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { eventsOf, memoryMetrics, memoryTracing, registerGlobals } from './otel-harness.js';

beforeAll(registerGlobals);

const fail = (category: string, extra: object = {}) =>
  Object.assign(new Error(`${category} failure`), { category, ...extra });

async function until(clock: VirtualClock, done: () => boolean, maxMs = 120_000): Promise<void> {
  for (let t = 0; t <= maxMs && !done(); t += 50) await clock.advance(50);
  expect(done()).toBe(true);
}

describe('tracePolicy', () => {
  function guardedCall() {
    const clock = new VirtualClock();
    const { tracer, spans } = memoryTracing();
    const breaker = circuitBreaker({
      name: 'items-api',
      trigger: { kind: 'consecutive', failures: 2 },
      halfOpenAfter: 60_000,
      clock,
    });
    const retries = retry({ maxAttempts: 4, backoff: constantBackoff({ delayMs: 10 }), clock });
    const guarded = pipeline(retries, breaker);
    const call = async () => {
      let done = false;
      const running = tracer.startActiveSpan('GET /items/7', (span) =>
        guarded
          .execute(() => Promise.reject(fail('network')), { operation: 'fetch_item' })
          .catch(() => undefined)
          .finally(() => {
            span.end();
            done = true;
          }),
      );
      await until(clock, () => done, 600_000);
      await running;
      return eventsOf(spans().find((s) => s.name === 'GET /items/7')!);
    };
    return { guarded, call };
  }

  it('is off by default: a guarded call adds nothing to its span', async () => {
    const { call } = guardedCall();
    expect(await call()).toEqual([]);
  });

  it('puts retries, the breaker opening and its rejections on the span active during the call', async () => {
    const { guarded, call } = guardedCall();
    const off = tracePolicy(guarded);
    const events = await call();
    off();
    const names = events.map((e) => e.name);
    expect(names.slice(0, 4)).toEqual([
      'faultline.retry',
      'faultline.circuit.state_change',
      'faultline.retry',
      'faultline.rejected',
    ]);
    expect(events[0]!.attributes).toMatchObject({
      'faultline.policy.kind': 'retry',
      'faultline.job.attempt': 1,
      'faultline.decision.delay_ms': 10,
      'faultline.fault.category': 'network',
      'faultline.operation': 'fetch_item',
    });
    expect(events[1]!.attributes).toMatchObject({
      'faultline.policy.kind': 'circuitBreaker',
      'faultline.policy.name': 'items-api',
      'faultline.circuit.from': 'closed',
      'faultline.circuit.to': 'open',
    });
    expect(events[3]!.attributes).toMatchObject({
      'faultline.policy.kind': 'circuitBreaker',
      'faultline.retry_after_ms': expect.any(Number),
    });
  });

  it('drops events when no span is recording', async () => {
    const clock = new VirtualClock();
    const retries = retry({ maxAttempts: 2, backoff: constantBackoff({ delayMs: 0 }), clock });
    const off = tracePolicy(retries);
    await expect(
      context.with(context.active(), () =>
        retries.execute(() => Promise.reject(fail('permanent'))),
      ),
    ).rejects.toThrow();
    expect(trace.getActiveSpan()).toBeUndefined();
    off();
  });
});

describe('FaultlineOtelMetrics', () => {
  it('mirrors the Prometheus set: job runs, retries, dead letters, pauses, durations, queue sizes, breaker state and bulkheads', async () => {
    const clock = new VirtualClock();
    const { provider, read } = memoryMetrics();
    const queue = new Queue<{ n: number }>(new MemoryStore(), 'crawl', { clock });
    const plan = recoveryPlan({ backoff: constantBackoff({ delayMs: 1_000 }) });
    const runs = new Map<number, number>();
    const worker = new Worker(
      queue,
      async ({ n }) => {
        const run = (runs.get(n) ?? 0) + 1;
        runs.set(n, run);
        await clock.sleep(200);
        if (n === 1 && run === 1) throw fail('network');
        if (n === 2 && run === 1) throw fail('rate_limit', { retryAfterMs: 5_000 });
        if (n === 3) throw fail('validation');
      },
      { clock, plan, keepAlive: false, concurrency: 1 },
    );
    const breaker = circuitBreaker({
      name: 'api',
      trigger: { kind: 'consecutive', failures: 1 },
      clock,
    });
    const slots = bulkhead({ maxConcurrent: 1, maxQueued: 0 });
    const metrics = new FaultlineOtelMetrics({ meterProvider: provider, clock })
      .observeWorker(worker, 'crawl')
      .observeQueue(queue, { refreshMs: 1_000 })
      .observeBreaker(breaker, 'api')
      .observeBulkhead(slots, 'downloads');

    expect(await read('faultline.jobs')).toEqual([]);
    await queue.enqueueMany([{ payload: { n: 1 } }, { payload: { n: 2 } }, { payload: { n: 3 } }]);
    worker.start();
    await until(
      clock,
      () => worker.summary().processed === 2 && worker.summary().deadLettered === 1,
    );
    await worker.stop();
    await breaker.execute(() => Promise.reject(fail('network'))).catch(() => undefined);
    const holding = slots.execute(() => clock.sleep(1_000));
    await slots.execute(() => 1).catch(() => undefined);
    await clock.advance(1_000);
    await holding;
    await clock.advance(1_000);

    const points = async (name: string) =>
      (await read(name)).map((p) => ({ ...p.attributes, value: p.value }));
    expect(await points('faultline.jobs')).toEqual(
      expect.arrayContaining([
        { queue: 'crawl', outcome: 'completed', value: 2 },
        { queue: 'crawl', outcome: 'retried', value: 1 },
        { queue: 'crawl', outcome: 'dead', value: 1 },
      ]),
    );
    expect(await points('faultline.retries')).toEqual([
      { source: 'crawl', category: 'network', value: 1 },
    ]);
    expect(await points('faultline.dead_letters')).toEqual([
      { queue: 'crawl', category: 'validation', value: 1 },
    ]);
    expect(await points('faultline.pauses')).toEqual([{ queue: 'crawl', value: 1 }]);
    expect(await points('faultline.rejections')).toEqual([{ source: 'downloads', value: 1 }]);
    expect(await points('faultline.circuit.transitions')).toEqual([
      { breaker: 'api', to: 'open', value: 1 },
    ]);
    expect(await points('faultline.circuit.state')).toEqual(
      expect.arrayContaining([
        { breaker: 'api', state: 'open', value: 1 },
        { breaker: 'api', state: 'closed', value: 0 },
      ]),
    );
    expect(await points('faultline.queue.jobs')).toEqual(
      expect.arrayContaining([
        { queue: 'crawl', state: 'completed', value: 2 },
        { queue: 'crawl', state: 'dead', value: 1 },
        { queue: 'crawl', state: 'waiting', value: 0 },
      ]),
    );
    expect(await points('faultline.bulkhead.active')).toEqual([
      { bulkhead: 'downloads', value: 0 },
    ]);
    const [completedDurations] = (await read('faultline.job.duration')).filter(
      (p) => p.attributes.outcome === 'completed',
    );
    expect(completedDurations!.value).toMatchObject({ count: 2 });
    expect((completedDurations!.value as { sum: number }).sum).toBeCloseTo(0.4, 5);
    metrics.close();
  });
});
