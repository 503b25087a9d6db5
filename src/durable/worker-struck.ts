/**
 * When a worker may claim a *struck* job (one that was running when a worker died, or whose
 * worker's store refused its outcome). At most one at a time, so a repeat crash names its
 * culprit. And only once this worker has had an outcome recorded, or found nothing else
 * waiting: a worker that is broken itself (a bad deploy that dies at start, a store that takes
 * claims but refuses outcomes) must not charge a struck job its next strike — the strike is
 * evidence about the job only when the worker around it works.
 */
export class StruckJobGate {
  private proven = false;
  private nothingElse = false;

  /** The claim's `maxStruck`, given how many struck jobs this worker holds (running or ahead). */
  maxStruck(heldStruck: number): 0 | 1 {
    return heldStruck === 0 && (this.proven || this.nothingElse) ? 1 : 0;
  }

  /** An outcome of this worker was recorded: the worker and its store work. */
  recorded(): void {
    this.proven = true;
  }

  /**
   * After a claim: true when it came back empty only because struck jobs were held back, so
   * the worker should claim again at once, struck jobs allowed.
   */
  claimAgain(claimed: number, maxStruck: number, heldStruck: number): boolean {
    if (claimed > 0 || maxStruck > 0 || heldStruck > 0 || this.nothingElse) return false;
    this.nothingElse = true;
    return true;
  }
}
