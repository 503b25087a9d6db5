import { FaultlineError } from '../faults/errors.js';
import type { Fault } from '../faults/fault.js';
import type { Decision } from '../recovery/plan.js';
import { cutSuggestions, cutText } from './bounded-text.js';
import type { ResolvedWorkerOptions } from './worker-options.js';
import type { ActiveRun } from './worker-leases.js';
import type { AttemptRecord, Outcome } from './store.js';

/** What the worker does about one failed run, and how it is reported. */
export interface FailureResult {
  readonly kind: 'retry' | 'skip' | 'exhausted' | 'pause' | 'abort';
  readonly outcome: Outcome;
  readonly decision: Decision;
}

export interface FailureInput {
  readonly run: ActiveRun;
  readonly fault: Fault;
  readonly options: ResolvedWorkerOptions;
  /** Wall-clock now. */
  readonly now: number;
  readonly durationMs: number;
  /** Pause time this worker may still spend. */
  readonly pauseBudgetLeftMs: number;
}

/**
 * Turns a failed run into an outcome with the recovery plan:
 * retry → back to the queue at now + delay; pause → released without charging the attempt
 * (the worker pauses the whole queue); skip/fallback → dead letter; give up, the job's own
 * attempt limit or a spent pause budget → dead letter as exhausted; abort → released.
 */
export function decideFailure(input: FailureInput): FailureResult {
  const { run, fault, options, now } = input;
  const job = run.job;
  let decision = options.plan.decide(fault, {
    attempt: job.attempt,
    elapsedMs: now - job.enqueuedAt,
  });
  if (
    decision.action === 'retry' &&
    job.maxAttempts !== undefined &&
    job.attempt >= job.maxAttempts
  ) {
    decision = giveUp(
      decision,
      `${decision.fault.category}: gave up after ${job.attempt} attempt(s) (the job allows ${job.maxAttempts})`,
    );
  }
  if (decision.action === 'pause' && decision.delayMs > input.pauseBudgetLeftMs) {
    decision = giveUp(
      decision,
      `${decision.fault.category}: a pause of ${decision.delayMs} ms would exceed the worker's pause budget`,
    );
  }
  const record = (outcome: AttemptRecord['outcome']): AttemptRecord => ({
    attempt: job.attempt,
    workerId: options.workerId,
    startedAt: run.startedAt,
    durationMs: Math.max(0, Math.round(input.durationMs)),
    outcome,
    category: fault.category,
    message: cutText(fault.message, options.maxMessageChars),
  });
  const lease = { id: job.id, token: job.token };
  if (
    refusedLocally(fault) &&
    (decision.action === 'retry' ||
      (decision.action === 'give_up' && fault.retryAfterMs !== undefined))
  ) {
    // An open breaker, a full bulkhead or a spent rate limit refused the call: nothing ran, so the
    // job goes back without being charged an attempt (it must not be dead-lettered for an outage
    // it never reached), and waits as long as the refusing policy said.
    const waitMs = fault.retryAfterMs ?? (decision.action === 'retry' ? decision.delayMs : 0);
    return {
      kind: 'retry',
      decision: {
        ...decision,
        action: 'retry',
        delayMs: waitMs,
        reason: `${fault.category}: refused locally, not charged as an attempt`,
      },
      outcome: {
        ...lease,
        kind: 'release',
        refund: true,
        runAt: now + waitMs,
        record: record('released'),
      },
    };
  }
  switch (decision.action) {
    case 'retry':
      return {
        kind: 'retry',
        decision,
        outcome: {
          ...lease,
          kind: 'retry',
          runAt: now + decision.delayMs,
          record: record('retry'),
        },
      };
    case 'pause':
      return {
        kind: 'pause',
        decision,
        outcome: {
          ...lease,
          kind: 'release',
          refund: true,
          runAt: now + decision.delayMs,
          record: record('released'),
        },
      };
    case 'abort':
      return {
        kind: 'abort',
        decision,
        outcome: { ...lease, kind: 'release', refund: true, record: record('released') },
      };
    case 'skip':
    case 'fallback':
    case 'give_up': {
      const faultSummary = {
        category: fault.category,
        message: cutText(`${decision.reason}. ${fault.message}`, options.maxMessageChars),
        suggestions: cutSuggestions(fault.suggestions, options.maxMessageChars),
      };
      return {
        kind: decision.action === 'give_up' ? 'exhausted' : 'skip',
        decision,
        outcome: { ...lease, kind: 'dead', fault: faultSummary, record: record('dead') },
      };
    }
  }
}

/**
 * Whether one of faultline's own policies refused the call. Total: the cause is whatever the
 * handler threw, and a Proxy whose getPrototypeOf trap throws makes `instanceof` throw.
 */
function refusedLocally(fault: Fault): boolean {
  try {
    return fault.cause instanceof FaultlineError && fault.cause.refusedLocally === true;
  } catch {
    return false;
  }
}

function giveUp(decision: Decision, reason: string): Decision {
  return { ...decision, action: 'give_up', delayMs: 0, reason };
}
