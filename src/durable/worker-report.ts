import type { Events } from '../observe/events.js';
import type { Clock } from '../time/clock.js';
import type { Outcome } from './store.js';
import type { FailureResult } from './worker-decide.js';
import type { WorkerEvents } from './worker-events.js';
import type { ActiveRun } from './worker-leases.js';
import type { SummaryCounter } from './worker-summary.js';

/**
 * Counts and announces an outcome the store has applied: completed, sent back for a retry,
 * dead-lettered, or released without charge (pause, abort, shutdown).
 */
export function reportOutcome(
  events: Events<WorkerEvents>,
  counter: SummaryCounter,
  clock: Clock,
  run: ActiveRun,
  outcome: Outcome,
  failure: FailureResult | undefined,
): void {
  const { job } = run;
  if (outcome.kind === 'complete') {
    counter.processed++;
    if (events.has('completed'))
      events.emit('completed', {
        jobId: job.id,
        queue: job.queue,
        attempt: job.attempt,
        durationMs: clock.now() - run.startedMono,
      });
  } else if (failure?.kind === 'retry') {
    counter.retried++;
    events.emit('retry', {
      jobId: job.id,
      queue: job.queue,
      attempt: job.attempt,
      delayMs: failure.decision.delayMs,
      fault: failure.decision.fault,
      reason: failure.decision.reason,
    });
  } else if (failure?.kind === 'skip' || failure?.kind === 'exhausted') {
    if (failure.kind === 'skip') counter.skipped++;
    else counter.exhausted++;
    events.emit('giveUp', {
      jobId: job.id,
      queue: job.queue,
      reason: failure.kind,
      message: failure.decision.reason,
      attempts: job.attempt,
      fault: failure.decision.fault,
    });
  } else {
    counter.released++;
    const reason =
      failure?.kind === 'pause'
        ? 'pause'
        : failure?.kind === 'abort' || counter.aborted
          ? 'abort'
          : 'shutdown';
    events.emit('released', { jobId: job.id, queue: job.queue, reason });
  }
}

/** Counts and announces a run whose lease another worker took or that ran out here. */
export function reportLeaseLost(
  events: Events<WorkerEvents>,
  counter: SummaryCounter,
  run: ActiveRun,
): void {
  counter.leasesLost++;
  if (events.has('leaseLost'))
    events.emit('leaseLost', { jobId: run.job.id, queue: run.job.queue });
}
