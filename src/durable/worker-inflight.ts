/**
 * The runs a worker has started and not yet finished (outcome written and reported), so that
 * stop can wait for them. A count and its waiters rather than a set of the runs' promises: a
 * busy worker starts tens of thousands of runs a second, and each entry in a set cost a closure
 * and a promise of its own.
 */
export class RunsInFlight {
  private count = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly ended = (): void => {
    this.count--;
    if (this.count === 0) for (const resolve of this.waiters.splice(0)) resolve();
  };

  /** `run` settles when the run is over; a rejection counts as over too. */
  add(run: Promise<void>): void {
    this.count++;
    run.then(this.ended, this.ended);
  }

  get size(): number {
    return this.count;
  }

  /** Resolves once no run is in flight (at once when none is). */
  settled(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
