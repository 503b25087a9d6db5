import type { CancelTimer, Clock } from '../time/clock.js';

/** Something with a deadline in a DeadlineQueue (a timed-out call, a hedge to launch). */
export interface DeadlineEntry {
  readonly deadline: number;
  /** Set by the queue; entries form a singly linked list, so queueing allocates nothing. */
  nextEntry: DeadlineEntry | undefined;
  /** True once the work finished: its deadline no longer matters. */
  settled: boolean;
  /** Called once when the deadline passes before the entry settled. */
  expire(): void;
}

/**
 * One timer for many deadlines. A policy with a fixed duration adds deadlines in time order,
 * so a FIFO list is enough (O(1) add and settle) and a single clock timer, armed for the
 * head, serves every call in flight. Settled entries at the head are dropped at once, so
 * memory is bounded by the calls between the oldest unfinished one and the newest.
 *
 * The timer is not cancelled when the queue empties (that would cost a timer per call for
 * sequential callers): it fires once at the deadline it was armed for, finds nothing, and
 * stops. It is unref'd, so it never keeps a process alive, and it holds no caller data.
 */
export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private cancelTimer: CancelTimer | undefined;
  private readonly onTimer = (): void => this.fire();

  constructor(private readonly clock: Clock) {}

  add(entry: DeadlineEntry): void {
    if (this.tail === undefined) {
      this.head = entry;
    } else {
      this.tail.nextEntry = entry;
    }
    this.tail = entry;
    if (this.cancelTimer === undefined) this.arm(entry.deadline);
  }

  /** Marks an entry finished; drops finished entries from the front. */
  settle(entry: DeadlineEntry): void {
    entry.settled = true;
    let head = this.head;
    while (head?.settled) head = this.shift(head);
  }

  /** Whether any unfinished deadline is queued (tests and leak checks). */
  get idle(): boolean {
    return this.head === undefined;
  }

  /** Stops the timer and forgets every entry without expiring them. */
  clear(): void {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.head = undefined;
    this.tail = undefined;
  }

  private shift(entry: DeadlineEntry): DeadlineEntry | undefined {
    const next = entry.nextEntry;
    entry.nextEntry = undefined;
    this.head = next;
    if (next === undefined) this.tail = undefined;
    return next;
  }

  private arm(deadline: number): void {
    this.cancelTimer = this.clock.schedule(Math.max(0, deadline - this.clock.now()), this.onTimer, { unref: true });
  }

  private fire(): void {
    this.cancelTimer = undefined;
    const now = this.clock.now();
    for (let head = this.head; head !== undefined && (head.settled || head.deadline <= now); head = this.head) {
      this.shift(head);
      if (!head.settled) {
        head.settled = true;
        head.expire();
      }
    }
    // expire() may have added entries and armed the timer already.
    if (this.head !== undefined && this.cancelTimer === undefined) this.arm(this.head.deadline);
  }
}
