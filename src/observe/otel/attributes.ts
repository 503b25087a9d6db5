import type { Attributes, Span } from '@opentelemetry/api';
import { otelApi } from './api.js';
import { redactCredentials } from '../../config/redact.js';

/**
 * Attribute names: OpenTelemetry's messaging semantic conventions for jobs, `faultline.*` for
 * what only faultline knows (the fault's category, the plan's decision, the attempt).
 */
export const MESSAGING_SYSTEM = 'faultline';

export const ATTR = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destination: 'messaging.destination.name',
  messageId: 'messaging.message.id',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  attempt: 'faultline.job.attempt',
  created: 'faultline.job.created',
  category: 'faultline.fault.category',
  faultCode: 'faultline.fault.code',
  action: 'faultline.decision.action',
  delayMs: 'faultline.decision.delay_ms',
  reason: 'faultline.decision.reason',
  pausedUntil: 'faultline.queue.paused_until',
  policyKind: 'faultline.policy.kind',
  policyName: 'faultline.policy.name',
  operation: 'faultline.operation',
} as const;

/** What `failed` reads of a faultline Fault (kept structural: this entry does not import the core's classes). */
export interface FaultLike {
  readonly category: string;
  readonly message: string;
  readonly code?: string;
  readonly cause: unknown;
}

/**
 * Marks a span as failed by `fault`: the exception (message and stack scrubbed of credentials),
 * `error.type` (the error's class name, else the fault's category), the category and status ERROR.
 */
export function failed(span: Span, fault: FaultLike): void {
  const cause = fault.cause;
  const name = cause instanceof Error ? cause.name : undefined;
  const errorType = name !== undefined && name !== '' && name !== 'Error' ? name : fault.category;
  const message = redactCredentials(fault.message);
  span.recordException({
    name: name ?? fault.category,
    message,
    ...(cause instanceof Error && typeof cause.stack === 'string'
      ? { stack: redactCredentials(cause.stack) }
      : {}),
    ...(fault.code === undefined ? {} : { code: fault.code }),
  });
  const attributes: Attributes = { [ATTR.errorType]: errorType, [ATTR.category]: fault.category };
  if (fault.code !== undefined) attributes[ATTR.faultCode] = fault.code;
  span.setAttributes(attributes);
  span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message });
}

/** Marks a span as failed by an error that was not classified (a store that refused an enqueue). */
export function failedWith(span: Span, error: unknown): void {
  const name = error instanceof Error ? error.name : 'unknown';
  const message = redactCredentials(error instanceof Error ? error.message : String(error));
  span.recordException({ name, message });
  span.setAttribute(ATTR.errorType, name);
  span.setStatus({ code: otelApi().SpanStatusCode.ERROR, message });
}
