/**
 * A worker process for the cross-process tracing test: runs the `orders` queue of a SQLite file
 * or a Redis prefix under `traceWorker` and `FaultlineOtelMetrics`, and writes every finished
 * span as one `SPAN {json}` line on stdout, then `METRICS {json}` once the expected outcomes
 * are reached (2 completed, 1 dead letter), then exits.
 *
 *   node --import tsx test/otel/otel-child.ts sqlite <file> | redis <url> <prefix>
 */
import type { ExportResult } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { Queue } from '../../src/durable/queue.js';
import type { DurableStore } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { FaultlineOtelMetrics, traceWorker } from '../../src/observe/otel/index.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { RedisStore } from '../../src/stores/redis/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { memoryMetrics, registerGlobals } from './otel-harness.js';

/** Serialises finished spans to stdout for the parent process. */
class StdoutExporter implements SpanExporter {
  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    for (const s of spans) {
      const line = {
        name: s.name,
        kind: s.kind,
        traceId: s.spanContext().traceId,
        spanId: s.spanContext().spanId,
        parentSpanId: s.parentSpanContext?.spanId,
        links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId })),
        attributes: s.attributes,
        status: s.status,
        events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
      };
      process.stdout.write(`SPAN ${JSON.stringify(line)}\n`);
    }
    done({ code: 0 });
  }
  async shutdown(): Promise<void> {}
}

async function main(): Promise<void> {
  const [kind, location, prefix] = process.argv.slice(2);
  registerGlobals();
  const provider = new BasicTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(new StdoutExporter())],
  });
  const store: DurableStore =
    kind === 'sqlite'
      ? new SqliteStore(location!)
      : new RedisStore({ url: location!, prefix: prefix! });
  const queue = new Queue<{ kind: string }>(store, 'orders');
  const seen = new Set<string>();
  const worker = new Worker(
    queue,
    async ({ kind: job }, ctx) => {
      const first = !seen.has(ctx.job.id);
      seen.add(ctx.job.id);
      const inner = provider.getTracer('child').startSpan('charge card');
      inner.end();
      if (job === 'flaky' && first)
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      if (job === 'limited' && first)
        throw Object.assign(new Error('Too Many Requests'), {
          status: 429,
          headers: { 'retry-after': '1' },
        });
      if (job === 'doomed') throw Object.assign(new Error('Service Unavailable'), { status: 503 });
    },
    {
      plan: recoveryPlan({ backoff: constantBackoff({ delayMs: 50 }) }),
      pollMs: 50,
      concurrency: 1,
    },
  );
  traceWorker(worker, { tracerProvider: provider });
  const { provider: meterProvider, read } = memoryMetrics();
  const metrics = new FaultlineOtelMetrics({ meterProvider }).observeWorker(worker, 'orders');
  worker.start();
  // Bounded wait for the outcomes this test expects (real time: the parent is another process).
  for (
    let waited = 0;
    !(worker.summary().processed >= 2 && worker.summary().deadLettered >= 1);
    waited += 20
  ) {
    if (waited > 30_000)
      throw new Error(`outcomes not reached: ${JSON.stringify(worker.summary())}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await worker.stop();
  const jobs = await read('faultline.jobs');
  process.stdout.write(`METRICS ${JSON.stringify(jobs)}\n`);
  metrics.close();
  await store.close();
}

main().then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(`${(error as Error).stack}\n`);
    process.exit(1);
  },
);
