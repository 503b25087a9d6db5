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
 * fewer ahead. How many: halved on every such hand-back, one more for every held job that
 * started in good time, between 0 and `max` (slow handlers hold few, fast ones the full count).
 */
export class JobsAhead {
  private readonly held: HeldJob[] = [];
  private head = 0;
  private limit: number;
  /** Held jobs that were running when a worker died (`strikes > 0`). */
  struck = 0;

  constructor(private readonly max: number) {
    this.limit = max;
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

  /** The next job in claim order, removed; undefined when none is held. */
  next(): HeldJob | undefined {
    if (this.head >= this.held.length) return undefined;
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
    return jobs;
  }

  /** A held job started in good time. */
  startedInTime(): void {
    if (this.limit < this.max) this.limit++;
  }

  /** A held job went stale before a slot freed: hold fewer ahead. */
  wentStale(): void {
    this.limit = Math.floor(this.limit / 2);
  }
}
