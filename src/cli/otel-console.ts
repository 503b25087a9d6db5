/**
 * Spans on the terminal: the SDK's ConsoleSpanExporter behind a processor that, by default,
 * prints only the runs where faultline decided something (a retry, a pause, a dead letter, a
 * lease lost) and the spans that failed — a crawl of thousands of items stays readable.
 * `faultline demo --otel-console` uses this; in your own service:
 *
 *   const tracing = startConsoleTracing();
 *   traceQueue(queue); traceWorker(worker);
 *   ...
 *   await tracing.shutdown();
 */
import { otelApi } from '../observe/otel/api.js';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export interface ConsoleTracingOptions {
  /** Print every span, not only those with a decision or an error (default false). */
  readonly all?: boolean;
}

/** Only spans worth reading: with events (decisions) or an error status. */
class DecisionsOnly implements SpanProcessor {
  constructor(private readonly inner: SpanProcessor) {}
  onStart(): void {}
  onEnd(span: ReadableSpan): void {
    if (span.events.length > 0 || span.status.code === otelApi().SpanStatusCode.ERROR)
      this.inner.onEnd(span);
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush();
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
}

/** Registers a tracer provider printing to the console, the async context manager and W3C propagation. */
export function startConsoleTracing(options: ConsoleTracingOptions = {}): {
  shutdown(): Promise<void>;
} {
  const printer = new SimpleSpanProcessor(new ConsoleSpanExporter());
  const provider = new BasicTracerProvider({
    spanProcessors: [options.all ? printer : new DecisionsOnly(printer)],
  });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  otelApi().context.setGlobalContextManager(contextManager);
  otelApi().propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  otelApi().trace.setGlobalTracerProvider(provider);
  return {
    async shutdown(): Promise<void> {
      await provider.shutdown();
      otelApi().trace.disable();
      otelApi().propagation.disable();
      otelApi().context.disable();
    },
  };
}
