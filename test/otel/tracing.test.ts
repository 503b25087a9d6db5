import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { beforeAll, describe, expect, it } from 'vitest';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { traceQueue, traceWorker } from '../../src/observe/otel/index.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { eventsOf, memoryTracing, registerGlobals } from './otel-harness.js';

beforeAll(registerGlobals);

const fail = (category: string, extra: object = {}) =>
  Object.assign(new Error(`${category} failure`), { category, ...extra });
const plan = recoveryPlan({ backoff: constantBackoff({ delayMs: 1_000 }) });

async function until(clock: VirtualClock, done: () => boolean, maxMs = 120_000): Promise<void> {
  for (let t = 0; t <= maxMs && !done(); t += 50) await clock.advance(50);
  expect(done()).toBe(true);
}

function setup(parent: 'link' | 'child' = 'link') {
  const clock = new VirtualClock();
  const { tracer, provider, spans } = memoryTracing();
  const queue = new Queue<{ n: number }>(new MemoryStore(), 'mail', { clock });
  traceQueue(queue, { tracerProvider: provider });
  const start = (
    handler: (p: { n: number }) => unknown,
    options: ConstructorParameters<typeof Worker>[2] = {},
  ) => {
    const worker = new Worker(queue, handler, { clock, plan, keepAlive: false, ...options });
    traceWorker(worker, { tracerProvider: provider, parent });
    return worker.start();
  };
  return { clock, tracer, queue, start, spans };
}

describe('faultline/otel tracing of jobs', () => {
  it('an enqueue is a PRODUCER span under the request; the run is a CONSUMER span linked to it, and the handler nests inside', async () => {
    const { clock, tracer, queue, start, spans } = setup();
    const request = tracer.startSpan('GET /orders');
    const { id } = await context.with(trace.setSpan(context.active(), request), () =>
      queue.enqueue({ n: 1 }),
    );
    request.end();
    const worker = start(() => tracer.startActiveSpan('send email', (s) => s.end()));
    await until(clock, () => spans().some((s) => s.name === 'process mail'));
    await worker.stop();

    const send = spans().find((s) => s.name === 'send mail')!;
    const process = spans().find((s) => s.name === 'process mail')!;
    const inner = spans().find((s) => s.name === 'send email')!;
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'faultline',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'mail',
      'messaging.message.id': id,
      'faultline.job.created': true,
    });
    expect(process.kind).toBe(SpanKind.CONSUMER);
    expect(process.parentSpanContext).toBeUndefined();
    expect(process.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
    expect(process.links[0]!.context.traceId).toBe(request.spanContext().traceId);
    expect(process.attributes).toMatchObject({
      'messaging.system': 'faultline',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'mail',
      'messaging.message.id': id,
      'faultline.job.attempt': 1,
      'faultline.decision.action': 'complete',
    });
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
    expect(inner.parentSpanContext?.spanId).toBe(process.spanContext().spanId);
    expect((await queue.getJob(id))!.headers).toMatch(
      /"traceparent":"00-[0-9a-f]{32}-[0-9a-f]{16}-01"/,
    );
  });

  it("with parent: 'child' the run continues the producer's trace", async () => {
    const { clock, tracer, queue, start, spans } = setup('child');
    await tracer.startActiveSpan('POST /signup', async (request) => {
      await queue.enqueue({ n: 1 });
      request.end();
    });
    const worker = start(() => undefined);
    await until(clock, () => spans().some((s) => s.name === 'process mail'));
    await worker.stop();
    const send = spans().find((s) => s.name === 'send mail')!;
    const process = spans().find((s) => s.name === 'process mail')!;
    expect(process.spanContext().traceId).toBe(send.spanContext().traceId);
    expect(process.parentSpanContext?.spanId).toBe(send.spanContext().spanId);
    expect(process.links).toEqual([]);
  });

  it('retries, a Retry-After pause, a skip and a dead letter are span events with the fault, and each failed run is an error', async () => {
    const { clock, queue, start, spans } = setup();
    await queue.enqueueMany([
      { payload: { n: 1 } },
      { payload: { n: 2 } },
      { payload: { n: 3 } },
      { payload: { n: 4 }, maxAttempts: 1 },
    ]);
    const runs = new Map<number, number>();
    const worker = start(
      ({ n }) => {
        const run = (runs.get(n) ?? 0) + 1;
        runs.set(n, run);
        if (n === 1 && run <= 2) throw fail('network', { code: 'ECONNRESET' });
        if (n === 2 && run === 1) throw fail('rate_limit', { retryAfterMs: 900_000 });
        if (n === 3)
          throw Object.assign(
            new TypeError('Unprocessable at https://user:hunter22@api.example/x'),
            { status: 422 },
          );
        if (n === 4) throw fail('unavailable');
      },
      { concurrency: 1 },
    );
    await until(
      clock,
      () => worker.summary().processed === 2 && worker.summary().deadLettered === 2,
      2_000_000,
    );
    await worker.stop();

    const process = spans().filter((s) => s.name === 'process mail');
    const byJob = (n: number) =>
      process.filter((s) => s.attributes['messaging.message.id'] === String(n));
    const retried = byJob(1);
    expect(retried.map((s) => s.attributes['faultline.decision.action'])).toEqual([
      'retry',
      'retry',
      'complete',
    ]);
    expect(eventsOf(retried[0]!)).toEqual([
      {
        name: 'faultline.retry',
        attributes: {
          'faultline.decision.action': 'retry',
          'faultline.decision.delay_ms': 1_000,
          'faultline.fault.category': 'network',
          'faultline.job.attempt': 1,
        },
      },
    ]);
    expect(retried[1]!.attributes).toMatchObject({
      'faultline.job.attempt': 2,
      'faultline.fault.category': 'network',
      'faultline.fault.code': 'ECONNRESET',
    });
    expect(retried[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'network failure' });
    const exception = retried[0]!.events.find((e) => e.name === 'exception')!;
    expect(exception.attributes).toMatchObject({
      'exception.message': 'network failure',
      'exception.type': 'ECONNRESET',
    });
    expect(retried[2]!.status.code).toBe(SpanStatusCode.UNSET);

    const [paused, resumed] = byJob(2);
    expect(eventsOf(paused!)).toEqual([
      {
        name: 'faultline.pause',
        attributes: expect.objectContaining({
          'faultline.decision.action': 'pause',
          'faultline.decision.delay_ms': 900_000,
          'faultline.fault.category': 'rate_limit',
        }),
      },
    ]);
    expect(paused!.attributes).toMatchObject({
      'error.type': 'rate_limit',
      'faultline.decision.delay_ms': 900_000,
    });
    // The pause refunded the attempt: the run after it is attempt 1 again.
    expect(resumed!.attributes).toMatchObject({
      'faultline.job.attempt': 1,
      'faultline.decision.action': 'complete',
    });

    const [skipped] = byJob(3);
    expect(eventsOf(skipped!)).toEqual([
      {
        name: 'faultline.skip',
        attributes: expect.objectContaining({
          'faultline.decision.action': 'skip',
          'faultline.fault.category': 'validation',
        }),
      },
    ]);
    expect(skipped!.attributes['error.type']).toBe('TypeError');
    // No credential leaves in the exception, the status or the events.
    expect(JSON.stringify({ e: skipped!.events, s: skipped!.status })).not.toContain('hunter22');

    const [dead] = byJob(4);
    expect(eventsOf(dead!)).toEqual([
      {
        name: 'faultline.dead_letter',
        attributes: expect.objectContaining({
          'faultline.decision.action': 'dead_letter',
          'faultline.fault.category': 'unavailable',
          'faultline.job.attempt': 1,
        }),
      },
    ]);
    expect(dead!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('a job released at shutdown and one whose lease was lost get their own events', async () => {
    const { clock, queue, start, spans } = setup();
    await queue.enqueue({ n: 1 });
    let entered = false;
    const worker = start(() => {
      entered = true;
      return new Promise(() => {});
    });
    await until(clock, () => entered);
    const stopping = worker.stop({ deadlineMs: 100 });
    await until(clock, () => spans().some((s) => s.name === 'process mail'));
    await stopping;
    const [released] = spans().filter((s) => s.name === 'process mail');
    expect(eventsOf(released!)).toEqual([
      {
        name: 'faultline.release',
        attributes: expect.objectContaining({ 'faultline.decision.action': 'release' }),
      },
    ]);

    const lost = setup();
    await lost.queue.enqueue({ n: 1 });
    const store = lost.queue.store as MemoryStore;
    const stolen = lost.start(async () => {
      // Another worker takes the job as if its lease had run out: this run's outcome is refused.
      await store.claim({
        queue: 'mail',
        workerId: 'thief',
        limit: 1,
        leaseMs: 60_000,
        now: lost.clock.wallTime() + 60_000,
        maxStrikes: 9,
      });
    });
    await until(lost.clock, () => lost.spans().some((s) => s.name === 'process mail'));
    await stolen.stop();
    const [lostSpan] = lost.spans().filter((s) => s.name === 'process mail');
    expect(eventsOf(lostSpan!).map((e) => e.name)).toEqual(['faultline.lease_lost']);
    expect(lostSpan!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('never makes an enqueue fail: trace context that would overflow the headers is left out', async () => {
    const { queue } = setup();
    const full = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`h${i}`, 'v']));
    const big = { note: 'x'.repeat(4_040) };
    const [a, b, c] = await queue.enqueueMany([
      { payload: { n: 1 }, headers: full },
      { payload: { n: 2 }, headers: big },
      { payload: { n: 3 } },
    ]);
    expect(JSON.parse((await queue.getJob(a!.id))!.headers!)).toEqual(full);
    expect(JSON.parse((await queue.getJob(b!.id))!.headers!)).toEqual(big);
    expect(JSON.parse((await queue.getJob(c!.id))!.headers!)).toHaveProperty('traceparent');
  });

  it('tracing is off by default: an uninstrumented queue stores no trace context', async () => {
    const { tracer } = memoryTracing();
    const queue = new Queue(new MemoryStore(), 'plain');
    const { id } = await tracer.startActiveSpan('request', async (span) => {
      const result = await queue.enqueue(1);
      span.end();
      return result;
    });
    expect((await queue.getJob(id))!.headers).toBeUndefined();
  });
});
