/**
 * Production wiring: the OpenTelemetry Node SDK sends faultline's spans and metrics to an OTLP
 * endpoint (a Collector, Jaeger, Tempo, Honeycomb, ...). Set the usual variables:
 *
 *   OTEL_SERVICE_NAME=orders OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 node dist/otlp.js
 *
 * The SDK registers the global tracer and meter providers, the AsyncLocalStorage context manager
 * and W3C propagation; faultline's `traceQueue`, `traceWorker`, `tracePolicy` and
 * `FaultlineOtelMetrics` use whatever is registered, so they are called with no options here.
 * Start the SDK before anything else creates spans, and shut it down last (it flushes).
 */
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { circuitBreaker, pipeline, Queue, retry, timeout, Worker } from '../../src/index.js';
import {
  FaultlineOtelMetrics,
  tracePolicy,
  traceQueue,
  traceWorker,
} from '../../src/observe/otel/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';

export interface OrderEmail {
  readonly orderId: string;
  readonly to: string;
}

/** Starts the SDK (OTLP over HTTP; endpoint and headers from the OTEL_* environment variables). */
export function startTelemetry(): NodeSDK {
  const sdk = new NodeSDK({
    serviceName: process.env.OTEL_SERVICE_NAME ?? 'orders',
    traceExporter: new OTLPTraceExporter(),
    metricReaders: [
      new PeriodicExportingMetricReader({
        exporter: new OTLPMetricExporter(),
        exportIntervalMillis: 15_000,
      }),
    ],
  });
  sdk.start();
  return sdk;
}

/**
 * The queue of order e-mails, instrumented: each `enqueue` (in an HTTP handler, say) is a
 * `send orders-email` span; each run a `process orders-email` span linked to it, with the
 * retries, pauses and dead letters as events; the mail API's policies add their decisions to
 * the run's span; the metrics mirror the Prometheus adapter's.
 */
export function instrumentedOrders(
  file: string,
  sendEmail: (email: OrderEmail, signal: AbortSignal) => Promise<void>,
) {
  const store = new SqliteStore(file);
  const queue = new Queue<OrderEmail>(store, 'orders-email');
  const breaker = circuitBreaker({ name: 'mail-api' });
  const mailApi = pipeline(retry({ maxAttempts: 3 }), breaker, timeout(10_000));
  const worker = new Worker(queue, (email, ctx) =>
    mailApi.execute(({ signal }) => sendEmail(email, signal), {
      signal: ctx.signal,
      operation: 'send_email',
    }),
  );

  const stopTracing = [traceQueue(queue), traceWorker(worker), tracePolicy(mailApi)];
  const metrics = new FaultlineOtelMetrics()
    .observeWorker(worker, queue.name)
    .observeQueue(queue)
    .observeBreaker(breaker, 'mail-api');

  return {
    queue,
    worker: worker.start(),
    async close(): Promise<void> {
      await worker.stop();
      for (const stop of stopTracing) stop();
      metrics.close();
      await store.close();
    },
  };
}
