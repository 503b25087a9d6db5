/**
 * `faultline/otel`: OpenTelemetry tracing and metrics for faultline. `@opentelemetry/api` is an
 * optional peer dependency loaded only by this entry point; with no SDK registered every call
 * here goes to the API's no-op implementations.
 */
export { ATTR, MESSAGING_SYSTEM } from './attributes.js';
export { extractContext, injectContext } from './carrier.js';
export type { FaultlineOtelMetricsOptions } from './metrics.js';
export { FaultlineOtelMetrics } from './metrics.js';
export type { TraceablePolicy } from './policy-tracing.js';
export { tracePolicy } from './policy-tracing.js';
export type { InterceptableQueue } from './queue-tracing.js';
export { traceQueue } from './queue-tracing.js';
export type { TracingOptions } from './tracer.js';
export type { InterceptableWorker, WorkerTracingOptions } from './worker-tracing.js';
export { traceWorker } from './worker-tracing.js';
