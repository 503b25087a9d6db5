import type { WorkerEvents } from '../../durable/worker-events.js';
import type { HealthMonitorEvents } from '../../health/health-monitor.js';
import type { BulkheadEvents } from '../../policies/bulkhead.js';
import type { CircuitBreakerEvents } from '../../policies/circuit-breaker.js';
import type { RetryEvents } from '../../policies/retry-events.js';
import type { Emitter } from '../events.js';

/**
 * What the metrics adapters (Prometheus here, OpenTelemetry in ../otel) read from faultline's
 * emitters and queues, shared so both subscribe to the same typed events.
 */

// What each observe* method subscribes to: an emitter that does not declare these events (or an
// event renamed since) is a type error, not a silently empty metric.
/** The retry policy events `observeRetry` counts. */
export type ObservedRetryEvents = Pick<RetryEvents, 'retry' | 'success' | 'giveUp'>;
/** The circuit breaker events `observeBreaker` follows. */
export type ObservedBreakerEvents = Pick<CircuitBreakerEvents, 'stateChange' | 'rejected'>;
/** The bulkhead events `observeBulkhead` counts. */
export type ObservedBulkheadEvents = Pick<BulkheadEvents, 'rejected'>;
/** The worker events `observeWorker` counts. */
export type ObservedWorkerEvents = Pick<
  WorkerEvents,
  'completed' | 'retry' | 'giveUp' | 'paused' | 'leaseLost'
>;
/** The health monitor events `observeHealth` follows. */
export type ObservedHealthEvents = Pick<HealthMonitorEvents, 'result' | 'modeChange' | 'flapping'>;

/** What `observeQueue` reads: a faultline Queue, or anything that answers `stats()` the same way. */
export interface QueueStatsSource {
  readonly name: string;
  stats(): Promise<{
    readonly waiting: number;
    readonly delayed: number;
    readonly running: number;
    readonly completed: number;
    readonly dead: number;
    readonly pausedUntil: number | null;
    readonly oldestWaitingSince: number | null;
  }>;
}

/** What `observeBulkhead` reads at scrape time (in memory, no I/O). */
export interface BulkheadStatsSource extends Emitter<ObservedBulkheadEvents> {
  stats(): { readonly active?: number; readonly queued?: number };
}

/** The fault category of an event that carries a fault (directly, or in its decision). */
export function categoryOf(event: object): string {
  const e = event as {
    readonly fault?: { readonly category?: unknown };
    readonly decision?: { readonly fault?: { readonly category?: unknown } };
    readonly category?: unknown;
  };
  const category = e.fault?.category ?? e.decision?.fault?.category ?? e.category;
  return typeof category === 'string' ? category : 'unknown';
}
