import type { CheckpointerEvents } from '../../durable/checkpointer.js';
import type { QueueEvents } from '../../durable/queue.js';
import type { WorkerEvents } from '../../durable/worker-events.js';
import type { HealthMonitorEvents } from '../../health/health-monitor.js';
import type { RefreshableEvents } from '../../health/refreshable.js';
import type { BulkheadEvents } from '../../policies/bulkhead.js';
import type { CircuitBreakerEvents } from '../../policies/circuit-breaker.js';
import type { FallbackEvents } from '../../policies/fallback.js';
import type { RateLimiterEvents } from '../../policies/rate-limiter.js';
import type { RetryEvents } from '../../policies/retry-events.js';
import type { TimeoutEvents } from '../../policies/timeout.js';
import type { Events } from '../events.js';

/**
 * Structured logs for recovery decisions. `LoggerLike` is the subset of pino's interface that
 * faultline calls (`logger.warn(fields, message)`), so a pino logger, a pino child logger or any
 * look-alike can be passed. `logDecisions(source, logger)` writes one line per decision an
 * emitter makes (retry, pause, give up (a dead letter, for a worker), breaker opens, health mode changes), each
 * with the fault's category.
 */

export type LogMethod = (fields: Record<string, unknown>, message?: string) => void;

export interface LoggerLike {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/** A log line's level: the four methods of `LoggerLike`. */
export type DecisionLevel = 'debug' | 'info' | 'warn' | 'error';

/** Anything with a faultline event hub: a policy, a worker, a queue, a health monitor. */
export interface EventSource {
  /** Any hub: the names subscribed to are checked against the emitters' maps (the table below). */
  readonly events: { on(type: never, listener: never): () => void };
}

/**
 * Every event name the emitters this adapter knows declare. The table below is checked against
 * it, so renaming an event breaks the build instead of silently dropping its log lines.
 */
export type DecisionEventName =
  | keyof RetryEvents
  | keyof CircuitBreakerEvents
  | keyof BulkheadEvents
  | keyof RateLimiterEvents
  | keyof FallbackEvents
  | keyof TimeoutEvents
  | keyof WorkerEvents
  | keyof QueueEvents
  | keyof HealthMonitorEvents
  | keyof RefreshableEvents
  | keyof CheckpointerEvents;

/** The events `logDecisions` writes a line for (each one some emitter declares). */
export type LoggedEventName = Extract<
  DecisionEventName,
  | 'retry'
  | 'giveUp'
  | 'stateChange'
  | 'rejected'
  | 'fallback'
  | 'timeout'
  | 'paused'
  | 'resumed'
  | 'aborted'
  | 'leaseLost'
  | 'modeChange'
  | 'flapping'
  | 'stale'
  | 'checkpointSaved'
  | 'checkpointFailed'
>;

interface DecisionSpec {
  readonly level: DecisionLevel;
  readonly decision: string;
}

/**
 * The events that are decisions, with their level and the decision's name in the log line.
 * Events of other emitters with the same names carry the same fields, so one table serves all.
 */
const DECISION_EVENTS = {
  // policies (a worker's retry and giveUp have the same names and fields)
  retry: { level: 'info', decision: 'retry' },
  giveUp: { level: 'warn', decision: 'give_up' },
  stateChange: { level: 'warn', decision: 'circuit' },
  rejected: { level: 'debug', decision: 'reject' },
  fallback: { level: 'info', decision: 'fallback' },
  timeout: { level: 'info', decision: 'timeout' },
  // durable worker and queue
  paused: { level: 'warn', decision: 'pause' },
  resumed: { level: 'info', decision: 'resume' },
  aborted: { level: 'error', decision: 'abort' },
  leaseLost: { level: 'warn', decision: 'lease_lost' },
  // health
  modeChange: { level: 'warn', decision: 'mode_change' },
  flapping: { level: 'warn', decision: 'flapping' },
  stale: { level: 'warn', decision: 'serve_stale' },
  // checkpointer: every save, so a log shows how often progress is made durable
  checkpointSaved: { level: 'info', decision: 'checkpoint_saved' },
  checkpointFailed: { level: 'error', decision: 'checkpoint_failed' },
} as const satisfies { readonly [K in LoggedEventName]: DecisionSpec };

/** The names `logDecisions` subscribes to, in table order (for tests and docs). */
export const LOGGED_EVENTS: readonly LoggedEventName[] = Object.keys(
  DECISION_EVENTS,
) as LoggedEventName[];

export interface LogDecisionsOptions {
  /**
   * Added to every line as `component` (e.g. `crawler.worker`).
   * @defaultValue no `component` field
   */
  readonly component?: string;
  /**
   * Override the level of an event, or `'off'` to drop it: `{ rejected: 'off' }`.
   * @defaultValue each event's level in the table (info for retries, warn for give-ups, …)
   */
  readonly levels?: { readonly [K in LoggedEventName]?: DecisionLevel | 'off' };
}

/** Subscribes `logger` to the decision events of `source`; returns a function that unsubscribes. */
export function logDecisions(
  source: EventSource,
  logger: LoggerLike,
  options: LogDecisionsOptions = {},
): () => void {
  const hub = source.events as unknown as Events<Record<string, unknown>>;
  const offs: (() => void)[] = [];
  for (const type of LOGGED_EVENTS) {
    const spec: DecisionSpec = DECISION_EVENTS[type];
    const level = options.levels?.[type] ?? spec.level;
    if (level === 'off') continue;
    offs.push(
      hub.on(type, (event) => {
        const { fields, message } = decisionLine(spec.decision, event);
        if (options.component !== undefined) fields.component = options.component;
        logger[level](fields, message);
      }),
    );
  }
  return () => {
    for (const off of offs) off();
  };
}

/** The fields of one log line: the decision, the fault's category and what identifies the work. */
export function decisionLine(
  decision: string,
  event: unknown,
): { fields: Record<string, unknown>; message: string } {
  const e = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const fault = (
    isRecord(e.fault)
      ? e.fault
      : isRecord(e.decision) && isRecord(e.decision.fault)
        ? e.decision.fault
        : undefined
  ) as Record<string, unknown> | undefined;
  const fields: Record<string, unknown> = { decision };
  const category = fault?.category ?? e.category;
  if (category !== undefined) fields.category = category;
  copy(fields, fault, ['status', 'code']);
  copy(fields, e, [
    'attempt',
    'attempts',
    'delayMs',
    'jobId',
    'queue',
    'from',
    'to',
    'until',
    'breaker',
    'state',
    'retryAfterMs',
  ]);
  copy(fields, e, ['key', 'items', 'bytes', 'durationMs', 'trigger']);
  if (isRecord(e.decision)) copy(fields, e.decision, ['action', 'delayMs', 'attempt']);
  if (isRecord(e.operation)) {
    fields.operation = e.operation.name;
    if (isRecord(e.operation.attributes)) Object.assign(fields, e.operation.attributes);
  }
  // `reason` is a sentence on most events but a code on some (giveUp: 'exhausted'); prefer sentences.
  const sentence = (v: unknown) => (typeof v === 'string' && v.includes(' ') ? v : undefined);
  const reason = pickString(
    sentence(e.reason),
    isRecord(e.decision) ? e.decision.reason : undefined,
    e.message,
    e.reason,
    fault?.message,
  );
  if (typeof e.reason === 'string' && e.reason !== reason) fields.reason = e.reason;
  if (fault?.message !== undefined && fault.message !== reason) fields.error = fault.message;
  return { fields, message: reason ?? decision };
}

function copy(
  to: Record<string, unknown>,
  from: Record<string, unknown> | undefined,
  keys: readonly string[],
): void {
  if (from === undefined) return;
  for (const key of keys) if (from[key] !== undefined && to[key] === undefined) to[key] = from[key];
}

function pickString(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
