import type { Context, TextMapPropagator } from '@opentelemetry/api';
import { otelApi } from './api.js';
import { MAX_HEADER_ENTRIES, MAX_HEADERS_LENGTH, parseHeaders } from '../../durable/headers.js';

/**
 * Trace context in job headers (W3C `traceparent`/`tracestate`, or whatever the propagator
 * writes). Tracing must never make an enqueue fail: entries that would push the headers past
 * their bounds are left out (the job then simply carries no link to its producer).
 */
export function injectContext(
  ctx: Context,
  headers: Record<string, string>,
  propagator: TextMapPropagator | undefined,
): void {
  addWithinBounds(headers, contextEntries(ctx, propagator));
}

/** What the propagator writes for `ctx` (computed once for a batch of jobs). */
export function contextEntries(
  ctx: Context,
  propagator: TextMapPropagator | undefined,
): [string, string][] {
  const carrier: Record<string, string> = {};
  (propagator ?? otelApi().propagation).inject(ctx, carrier, otelApi().defaultTextMapSetter);
  return Object.entries(carrier);
}

/** Adds each entry unless it would push the headers past their bounds. */
export function addWithinBounds(
  headers: Record<string, string>,
  entries: readonly [string, string][],
): void {
  for (const [name, value] of entries) {
    const previous = headers[name];
    headers[name] = value;
    if (
      Object.keys(headers).length > MAX_HEADER_ENTRIES ||
      JSON.stringify(headers).length > MAX_HEADERS_LENGTH
    ) {
      if (previous === undefined) delete headers[name];
      else headers[name] = previous;
    }
  }
}

/** The context a job's producer injected (ROOT_CONTEXT plus what the headers carry). */
export function extractContext(
  headersText: string | undefined,
  propagator: TextMapPropagator | undefined,
): Context {
  if (headersText === undefined) return otelApi().ROOT_CONTEXT;
  return (propagator ?? otelApi().propagation).extract(
    otelApi().ROOT_CONTEXT,
    parseHeaders(headersText),
    otelApi().defaultTextMapGetter,
  );
}
