import type { ClaimedJob } from './store.js';
import type { AckBatcher } from './worker-acks.js';

/**
 * Claimed jobs a worker gives back without starting them (held too long, or held when it stops,
 * pauses or aborts): released at no cost to the job (no attempt, no strike), fenced by their
 * token, so a job another worker took meanwhile is not touched.
 */
export class HandBacks {
  /** Jobs were handed back since the last claim: written before the next one. */
  private unwritten = false;

  constructor(private readonly acks: AckBatcher) {}

  give(job: ClaimedJob): void {
    void this.acks.push({
      id: job.id,
      token: job.token,
      kind: 'release',
      refund: true,
      unstarted: true,
    });
    this.unwritten = true;
  }

  giveAll(jobs: readonly ClaimedJob[]): void {
    for (const job of jobs) this.give(job);
  }

  /**
   * Called before each claim. The hand-backs are written first: otherwise this worker's own
   * claim would find their leases expired and recover them as crashes (a strike each, a dead
   * letter at maxStrikes).
   */
  async writeBeforeClaim(): Promise<void> {
    if (!this.unwritten) return;
    this.unwritten = false;
    await this.acks.flush();
  }
}
