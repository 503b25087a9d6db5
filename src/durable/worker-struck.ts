import type { ClaimedJob } from './store.js';

/**
 * When a worker may claim a *struck* job (one that was running or held when a worker died, or
 * whose worker's store refused its outcome). The next strike of a struck job should be evidence
 * about the job, so:
 * - at most one at a time: a repeat crash names its culprit;
 * - only into a free slot, started at once, never held ahead: a worker killed while holding it
 *   unstarted would charge it a strike it did nothing for;
 * - only once this worker has had an outcome recorded, or found nothing else waiting: a worker
 *   that is broken itself (a bad deploy that dies at start, a store that takes claims but refuses
 *   outcomes) runs fresh jobs instead.
 */
export class StruckJobGate {
  private proven = false;
  private nothingElse = false;
  /** The last claim held struck jobs back only because this worker has not proven itself. */
  private heldBack = false;

  /** The next claim's `maxStruck`, given the struck jobs this worker holds and its free slots. */
  maxStruck(heldStruck: number, freeSlots: number): 0 | 1 {
    const room = heldStruck === 0 && freeSlots > 0;
    this.heldBack = room && !this.proven && !this.nothingElse;
    return room && !this.heldBack ? 1 : 0;
  }

  /** An outcome of this worker was recorded: the worker and its store work. */
  recorded(): void {
    this.proven = true;
  }

  /**
   * After a claim: true when it came back empty only because struck jobs were held back, so
   * the worker should claim again at once, struck jobs allowed.
   */
  claimAgain(claimed: number): boolean {
    if (claimed > 0 || !this.heldBack) return false;
    this.heldBack = false;
    this.nothingElse = true;
    return true;
  }
}

/** Claimed jobs with the struck ones first (claim order otherwise kept), so they get the free slots. */
export function struckFirst(jobs: readonly ClaimedJob[]): readonly ClaimedJob[] {
  if (!jobs.some(isStruck)) return jobs;
  return [...jobs.filter(isStruck), ...jobs.filter((job) => !isStruck(job))];
}

/** Recovered after its worker died (or its outcome was refused). */
export function isStruck(job: ClaimedJob): boolean {
  // A store written before strikes were reported gives undefined: treat it as never struck.
  return (job.strikes ?? 0) > 0;
}
