import { isStruck } from './worker-struck.js';
import type { ClaimedJob } from './store.js';

/** A claimed job waiting for a free slot, with the monotonic time its claim was sent. */
export interface HeldJob {
  readonly job: ClaimedJob;
  readonly sentMono: number;
}

/**
 * Jobs a worker claimed ahead of its free slots (`prefetch`), so a slot that frees starts the
 * next job at once instead of waiting a claim's round trip, and one claim brings more than
 * `concurrency` jobs. Held jobs are not renewed: one that cannot start while enough of its
 * lease is left is handed back unstarted (no attempt, no strike), and then the worker holds
 * fewer ahead.
 *
 * How many, between 0 and `max`: the worker starts at `base`. Halved on every such hand-back,
 * one more for every held job that started in good time (up to the level earned so far).
 * Doubled when the held jobs ran out while a claim was on its way and that claim came back full:
 * the jobs run faster than claims bring them, so claims should bring more at once. Slow jobs
 * never run the held ones dry, so they never grow past `base`.
 */
export class JobsAhead {
  private readonly held: HeldJob[] = [];
  private head = 0;
  private limit: number;
  /** What in-time starts bring the limit back to after a hand-back: `base`, or what growth earned. */
  private ceiling: number;
  private claimOnItsWay = false;
  /** What the claim on its way asks for, when it asks for jobs to hold (not only for free slots). */
  private askedAhead = 0;
  /** The last claim asked for jobs to hold and brought all it asked for: more are likely waiting. */
  private lastClaimFull = false;
  /** Free slots found nothing held while the current claim was (or went) on its way. */
  private ranDry = false;
  /** Held jobs went back unstarted since the current claim went out. */
  private wentBack = false;
  /** Held jobs that were running when a worker died (`strikes > 0`). */
  struck = 0;

  constructor(
    private readonly base: number,
    private readonly max: number = base,
  ) {
    this.limit = base;
    this.ceiling = base;
  }

  get size(): number {
    return this.held.length - this.head;
  }

  /** How many more jobs to hold now. */
  get room(): number {
    return Math.max(0, this.limit - this.size);
  }

  /** True when the held jobs are running low: time to claim more ahead. */
  get low(): boolean {
    return this.size <= this.limit / 2 && this.room > 0;
  }

  add(job: ClaimedJob, sentMono: number): void {
    this.held.push({ job, sentMono });
    if (isStruck(job)) this.struck++;
  }

  /** The next job in claim order, removed; undefined when none is held. Called for a free slot. */
  next(): HeldJob | undefined {
    if (this.head >= this.held.length) {
      if (this.claimOnItsWay) this.ranDry = true;
      return undefined;
    }
    const item = this.held[this.head++]!;
    if (this.head === this.held.length) {
      this.held.length = 0;
      this.head = 0;
    }
    if (isStruck(item.job)) this.struck--;
    return item;
  }

  /** Removes and returns every held job (stop, pause, abort: they go back unstarted). */
  takeAll(): ClaimedJob[] {
    const jobs = this.held.slice(this.head).map((h) => h.job);
    this.held.length = 0;
    this.head = 0;
    this.struck = 0;
    this.noGrowthFromThese();
    return jobs;
  }

  /** A held job started in good time. */
  startedInTime(): void {
    if (this.limit < this.ceiling) this.limit++;
  }

  /** A held job went stale before a slot freed: hold fewer ahead, and give up what growth earned. */
  wentStale(): void {
    this.limit = Math.floor(this.limit / 2);
    this.ceiling = Math.max(this.base, this.limit);
    this.noGrowthFromThese();
  }

  /** Held jobs that ran out by going back, not by starting, are no sign of fast jobs. */
  private noGrowthFromThese(): void {
    this.lastClaimFull = false;
    this.wentBack = true;
  }

  /**
   * A claim for `requested` jobs goes out while `freeSlots` slots are free. Sent with nothing
   * held after a full claim, it means the last batch ran out before the worker asked again.
   */
  claimSent(freeSlots: number, requested: number): void {
    this.claimOnItsWay = true;
    this.askedAhead = requested > freeSlots ? requested : 0;
    this.wentBack = false;
    this.ranDry = this.lastClaimFull && freeSlots > 0 && this.size === 0;
  }

  /** The claim brought `received` jobs (0 when it failed). */
  claimReturned(received: number): void {
    this.claimOnItsWay = false;
    this.lastClaimFull = this.askedAhead > 0 && received >= this.askedAhead;
    if (!this.ranDry || !this.lastClaimFull || this.wentBack) return;
    this.ceiling = Math.min(this.max, Math.max(1, this.ceiling * 2));
    this.limit = this.ceiling;
  }
}
