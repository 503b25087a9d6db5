/**
 * faultline/prometheus: metrics for policies, workers and queues through prom-client
 * (an optional peer dependency, loaded only by this entry point).
 */
export { FaultlineMetrics } from './metrics.js';
export type {
  BulkheadStatsSource,
  FaultlineMetricsOptions,
  ObservedBreakerEvents,
  ObservedBulkheadEvents,
  ObservedHealthEvents,
  ObservedRetryEvents,
  ObservedWorkerEvents,
  QueueStatsSource,
} from './metrics.js';
export { serveMetrics } from './server.js';
export type { MetricsServer } from './server.js';
