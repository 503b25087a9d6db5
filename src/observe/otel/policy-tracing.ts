import type { Attributes } from '@opentelemetry/api';
import { otelApi } from './api.js';
import { redactCredentials } from '../../config/redact.js';
import type { Events } from '../events.js';
import { ATTR } from './attributes.js';

/** A policy, a fallback or a pipeline (whose stages are traced one by one). */
export interface TraceablePolicy {
  readonly kind: string;
  readonly events: Events<object>;
  readonly stages?: readonly TraceablePolicy[];
}

type Event = Record<string, unknown>;
type Describe = (event: Event) => Attributes;

/**
 * Policy events that become span events, and what of each is kept. Everything here is in the
 * event already; nothing is computed for tracing.
 */
const SPAN_EVENTS: Readonly<
  Record<string, { readonly name: string; readonly describe: Describe }>
> = {
  retry: {
    name: 'faultline.retry',
    describe: (e) => ({
      [ATTR.attempt]: num(e.attempt),
      [ATTR.delayMs]: num(e.delayMs),
      [ATTR.category]: category(e),
      [ATTR.reason]: text(e.reason),
    }),
  },
  giveUp: {
    name: 'faultline.give_up',
    describe: (e) => ({
      'faultline.attempts': num(e.attempts),
      [ATTR.category]: category(e),
      [ATTR.reason]: text(e.reason),
    }),
  },
  stateChange: {
    name: 'faultline.circuit.state_change',
    describe: (e) => ({
      'faultline.circuit.from': text(e.from),
      'faultline.circuit.to': text(e.to),
      [ATTR.reason]: text(e.reason),
      ...(typeof e.openForMs === 'number' ? { 'faultline.circuit.open_for_ms': e.openForMs } : {}),
    }),
  },
  rejected: {
    name: 'faultline.rejected',
    describe: (e) =>
      typeof e.retryAfterMs === 'number' ? { 'faultline.retry_after_ms': e.retryAfterMs } : {},
  },
  // No `timeout` here: a timeout policy's deadlines share one timer, so when one fires the active
  // span is whichever call armed that timer. A timed-out call shows on its own span through the
  // retry / give-up event of category `timeout` and the exception its caller records.
  hedge: {
    name: 'faultline.hedge',
    describe: (e) => ({
      'faultline.hedge': num(e.hedge),
      'faultline.hedge.trigger': text(e.trigger),
    }),
  },
  fallback: { name: 'faultline.fallback', describe: (e) => ({ [ATTR.category]: category(e) }) },
  throttled: {
    name: 'faultline.throttled',
    describe: (e) => ({ 'faultline.reject_probability': num(e.rejectProbability) }),
  },
  exhausted: {
    name: 'faultline.retry_budget.exhausted',
    describe: (e) => ({
      'faultline.retries': num(e.retries),
      'faultline.requests': num(e.requests),
    }),
  },
};

/**
 * Opt-in: the decisions of `policy` (each stage of a pipeline) become events on the span active
 * when they happen — retries with their delay and fault category (a timed-out attempt is a
 * retry of category `timeout`), circuit state changes, rejections, hedges, fallbacks, adaptive
 * throttling, a spent retry budget. No span is made per call: a call protected by a
 * policy is usually inside a span of its own already (an HTTP request, a job's `process`).
 * Events outside any recording span are dropped. Returns a function that stops it.
 */
export function tracePolicy(
  policy: TraceablePolicy,
  options: { readonly name?: string } = {},
): () => void {
  const stages = policy.stages ?? [policy];
  const offs: (() => void)[] = [];
  for (const stage of stages) {
    const hub = stage.events as unknown as Events<Record<string, Event>>;
    const kind = stage.kind;
    for (const [type, spec] of Object.entries(SPAN_EVENTS)) {
      offs.push(
        hub.on(type, (event) => {
          const span = otelApi().trace.getActiveSpan();
          if (span === undefined || !span.isRecording()) return;
          const operation = event.operation as { name?: unknown } | undefined;
          const attributes: Attributes = { [ATTR.policyKind]: kind, ...spec.describe(event) };
          // Named policies name themselves in their events (`breaker`, `bulkhead`, `limiter`, `throttle`).
          const name =
            options.name ?? event.breaker ?? event.bulkhead ?? event.limiter ?? event.throttle;
          if (typeof name === 'string') attributes[ATTR.policyName] = name;
          if (typeof operation?.name === 'string') attributes[ATTR.operation] = operation.name;
          span.addEvent(spec.name, attributes);
        }),
      );
    }
  }
  return () => {
    for (const off of offs) off();
  };
}

function num(value: unknown): number {
  return typeof value === 'number' ? value : 0;
}

function text(value: unknown): string {
  return typeof value === 'string' ? redactCredentials(value) : '';
}

function category(event: Event): string {
  const fault = event.fault as { category?: unknown } | undefined;
  return typeof fault?.category === 'string' ? fault.category : 'unknown';
}
