import type { Attributes } from '@opentelemetry/api';
import { otelApi } from './api.js';
import type { EnqueueInterceptor } from '../../durable/queue.js';
import { ATTR, failedWith, MESSAGING_SYSTEM } from './attributes.js';
import { addWithinBounds, contextEntries } from './carrier.js';
import { resolveTracer, type TracingOptions } from './tracer.js';

/** What `traceQueue` needs of a queue: a faultline `Queue`. */
export interface InterceptableQueue {
  intercept(interceptor: EnqueueInterceptor): () => void;
}

/**
 * Makes every enqueue of `queue` a PRODUCER span (`send <queue>`) and puts that span's context
 * into each job's headers, so the worker that runs the job — in any process — can link its
 * `process` span to it. A batch (`enqueueMany`) is one `send` span whose context all its jobs
 * carry. Returns a function that stops tracing this queue.
 */
export function traceQueue(queue: InterceptableQueue, options: TracingOptions = {}): () => void {
  const tracer = resolveTracer('traceQueue', options, []);
  const propagator = options.propagator;
  return queue.intercept(async (call, proceed) => {
    const count = call.headers.length;
    const attributes: Attributes = {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: 'send',
      [ATTR.destination]: call.queue,
    };
    if (count > 1) attributes[ATTR.batchCount] = count;
    const span = tracer.startSpan(`send ${call.queue}`, {
      kind: otelApi().SpanKind.PRODUCER,
      attributes,
    });
    const ctx = otelApi().trace.setSpan(otelApi().context.active(), span);
    const entries = contextEntries(ctx, propagator);
    for (const headers of call.headers) addWithinBounds(headers, entries);
    try {
      const results = await otelApi().context.with(ctx, proceed);
      if (results.length === 1) {
        span.setAttribute(ATTR.messageId, results[0]!.id);
        // An idempotency key matched: nothing new was stored, the job already exists.
        span.setAttribute(ATTR.created, results[0]!.created);
      }
      return results;
    } catch (error) {
      failedWith(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}
