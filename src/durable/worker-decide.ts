import { classify } from '../faults/classify.js';
import { FaultlineError } from '../faults/errors.js';
import type { Fault } from '../faults/fault.js';
import type { Decision } from '../recovery/plan.js';
import type { Clock } from '../time/clock.js';
import { cutSuggestions, cutText } from './bounded-text.js';
import type { ResolvedWorkerOptions } from './worker-options.js';
import type { ActiveRun } from './worker-leases.js';
import type { AttemptRecord, Outcome } from './store.js';
import type { SummaryCounter } from './worker-summary.js';

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

/** What to write for a run whose handler threw; `failure` is set when the plan decided it. */
export interface FailedRun {
  readonly outcome: Outcome;
  readonly failure: FailureResult | undefined;
}

/**
 * The outcome of a run whose handler threw, or undefined when nothing may be written (the lease
 * is lost or the run abandoned). Whatever the handler threw, and whatever a user's classify or
 * plan does with it, nothing here throws: the job always gets an outcome.
 */
export function failedRunOutcome(
  run: ActiveRun,
  error: unknown,
  options: ResolvedWorkerOptions,
  clock: Clock,
  counter: SummaryCounter,
): FailedRun | undefined {
  const { job } = run;
  if (run.lost || run.abandoned) return undefined;
  // Cut off by its lease's end, or stopping/aborting: handed back uncharged (fenced).
  if (run.expired || run.releasing)
    return {
      outcome: { id: job.id, token: job.token, kind: 'release', refund: true },
      failure: undefined,
    };
  const fault = safeClassify(options.classify, error) ?? classify(error);
  counter.failure(fault.category);
  let failure: FailureResult | undefined;
  try {
    failure = decideFailure({
      run,
      fault,
      options,
      now: clock.wallTime(),
      durationMs: clock.now() - run.startedMono,
      pauseBudgetLeftMs: options.pauseBudgetMs - counter.pausedMs,
    });
  } catch {
    failure = undefined;
  }
  if (failure !== undefined) return { outcome: failure.outcome, failure };
  // The plan itself failed: try again later, the attempt counted.
  const runAt = clock.wallTime() + options.pollMs;
  return {
    outcome: { id: job.id, token: job.token, kind: 'release', refund: false, runAt },
    failure: undefined,
  };
}

/**
 * A store call of the worker failed: the abort decision when the fault cannot heal (`resource`
 * and not retryable: a corrupt, read-only, full or vanished store), else undefined (the caller
 * backs off and tries again).
 */
export function unhealableStoreFault(
  classifyFn: (error: unknown) => Fault,
  error: unknown,
): Decision | undefined {
  const fault = safeClassify(classifyFn, error);
  if (fault === undefined || fault.category !== 'resource' || fault.retryable) return undefined;
  return {
    action: 'abort',
    delayMs: 0,
    reason: `resource: the store failed in a way that does not heal (${fault.message})`,
    suggestions: fault.suggestions,
    fault,
    attempt: 1,
  };
}

/** The user's classify must not be able to kill the loop either. */
export function safeClassify(
  classifyFn: (error: unknown) => Fault,
  error: unknown,
): Fault | undefined {
  try {
    return classifyFn(error);
  } catch {
    return undefined;
  }
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
