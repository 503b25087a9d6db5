import type { Attributes, Link, Span } from '@opentelemetry/api';
import { otelApi } from './api.js';
import { ConfigError } from '../../faults/errors.js';
import type { RunInterceptor, WorkerEvents } from '../../durable/worker.js';
import type { Events } from '../events.js';
import { ATTR, failed, MESSAGING_SYSTEM } from './attributes.js';
import { extractContext } from './carrier.js';
import { resolveTracer, type TracingOptions } from './tracer.js';

export interface WorkerTracingOptions extends TracingOptions {
  /**
   * How a `process` span relates to the producer's `send` span: `link` (default; the messaging
   * conventions' choice — a job may run long after, and many times) or `child` (one trace from
   * the request to the last attempt, convenient for viewers that do not follow links).
   * @defaultValue 'link'
   */
  readonly parent?: 'link' | 'child';
}

/** What `traceWorker` needs of a worker: a faultline `Worker`. */
export interface InterceptableWorker {
  readonly events: Events<WorkerEvents>;
  intercept(interceptor: RunInterceptor): () => void;
}

const RELEASE_REASONS = {
  pause: 'the queue is paused',
  abort: 'another job aborted the worker',
  shutdown: 'the worker is stopping',
} as const;

interface OpenRun {
  readonly span: Span;
  /** The decision already recorded on the span, so a later, vaguer event does not repeat it. */
  decided: string | undefined;
}

/**
 * Makes every run of a job a CONSUMER span (`process <queue>`) linked to (or a child of) the
 * span that enqueued it, and runs the handler inside it so the handler's own spans nest. Each
 * decision about the run is a span event (`faultline.retry`, `faultline.pause`,
 * `faultline.skip`, `faultline.dead_letter`, `faultline.abort`, `faultline.lease_lost`,
 * `faultline.release`); a failed run records the exception, `error.type` and status ERROR.
 * Returns a function that stops tracing this worker.
 */
export function traceWorker(
  worker: InterceptableWorker,
  options: WorkerTracingOptions = {},
): () => void {
  const tracer = resolveTracer('traceWorker', options, ['parent']);
  const mode = options.parent ?? 'link';
  if (mode !== 'link' && mode !== 'child')
    throw new ConfigError('traceWorker.parent', mode, "'link' or 'child'");
  const propagator = options.propagator;
  const runs = new Map<string, OpenRun>();
  const bySpan = new Map<Span, OpenRun>();

  const offIntercept = worker.intercept(async (job, proceed) => {
    const producer = extractContext(job.headers, propagator);
    const producerSpan = otelApi().trace.getSpanContext(producer);
    const linked = producerSpan !== undefined && otelApi().trace.isSpanContextValid(producerSpan);
    const parent = mode === 'child' && linked ? producer : otelApi().ROOT_CONTEXT;
    const links: Link[] = mode === 'link' && linked ? [{ context: producerSpan }] : [];
    const attributes: Attributes = {
      [ATTR.system]: MESSAGING_SYSTEM,
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.destination]: job.queue,
      [ATTR.messageId]: job.id,
      [ATTR.attempt]: job.attempt,
    };
    const span = tracer.startSpan(
      `process ${job.queue}`,
      { kind: otelApi().SpanKind.CONSUMER, attributes, links },
      parent,
    );
    const run: OpenRun = { span, decided: undefined };
    runs.set(job.id, run);
    bySpan.set(span, run);
    try {
      await otelApi().context.with(otelApi().trace.setSpan(parent, span), proceed);
    } finally {
      // Not when `stopped` already ended it (the handler ignored its signal and came back late).
      if (bySpan.delete(span)) {
        runs.delete(job.id);
        span.end();
      }
    }
  });

  /** Pause and abort are announced without a job id, from inside the failing run: its span is the active one. */
  const activeRun = (): OpenRun | undefined => {
    const span = otelApi().trace.getActiveSpan();
    return span === undefined ? undefined : bySpan.get(span);
  };
  const decide = (run: OpenRun | undefined, action: string, attributes: Attributes = {}) => {
    if (run === undefined) return;
    run.decided = action;
    const all: Attributes = { [ATTR.action]: action, ...attributes };
    run.span.setAttributes(all);
    run.span.addEvent(`faultline.${action}`, all);
  };

  const events = worker.events;
  const offs = [
    offIntercept,
    events.on('completed', (e) => runs.get(e.jobId)?.span.setAttribute(ATTR.action, 'complete')),
    events.on('retry', (e) => {
      const run = runs.get(e.jobId);
      if (run === undefined) return;
      failed(run.span, e.fault);
      decide(run, 'retry', {
        [ATTR.delayMs]: e.delayMs,
        [ATTR.category]: e.fault.category,
        [ATTR.attempt]: e.attempt,
      });
    }),
    events.on('giveUp', (e) => {
      const run = runs.get(e.jobId);
      if (run === undefined) return;
      failed(run.span, e.fault);
      decide(run, e.reason === 'skip' ? 'skip' : 'dead_letter', {
        [ATTR.category]: e.fault.category,
        [ATTR.attempt]: e.attempts,
        [ATTR.reason]: e.message,
      });
    }),
    events.on('paused', (e) => {
      const run = activeRun();
      if (run === undefined) return;
      failed(run.span, e.fault);
      decide(run, 'pause', {
        [ATTR.delayMs]: e.delayMs,
        [ATTR.category]: e.fault.category,
        [ATTR.pausedUntil]: e.until,
      });
    }),
    events.on('aborted', (e) => {
      const run = activeRun();
      if (run === undefined) return;
      failed(run.span, e.decision.fault);
      decide(run, 'abort', {
        [ATTR.category]: e.decision.fault.category,
        [ATTR.reason]: e.decision.reason,
      });
    }),
    events.on('released', (e) => {
      const run = runs.get(e.jobId);
      // A pause or abort decided by this run was recorded already; this is the job going back.
      if (run === undefined || (run.decided !== undefined && run.decided === e.reason)) return;
      decide(run, e.reason === 'shutdown' ? 'release' : e.reason, {
        [ATTR.reason]: RELEASE_REASONS[e.reason],
      });
    }),
    events.on('leaseLost', (e) => {
      const run = runs.get(e.jobId);
      if (run === undefined) return;
      decide(run, 'lease_lost');
      run.span.setAttribute(ATTR.errorType, 'lease_lost');
      run.span.setStatus({
        code: otelApi().SpanStatusCode.ERROR,
        message: 'the lease was lost: another worker may run this job',
      });
    }),
    events.on('stopped', () => {
      // Handlers that ignored their signal were abandoned at stop: their jobs were released.
      for (const run of runs.values()) {
        decide(run, 'release', {
          [ATTR.reason]: 'the handler did not stop in time; the job was released',
        });
        bySpan.delete(run.span);
        run.span.end();
      }
      runs.clear();
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
