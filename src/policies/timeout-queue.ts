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
  /** Called when the entry leaves the queue (settled and dropped, or expired). */
  dequeued(): void;
}

/**
 * One timer for many deadlines. A policy with a fixed duration adds deadlines in time order,
 * so a FIFO list is enough (O(1) add and settle) and a single clock timer, armed for the
 * head, serves every call in flight. Settled entries at the head are dropped at once, so
 * memory is bounded by the calls between the oldest unfinished one and the newest.
 *
 * The timer is not cancelled when the queue empties (that would cost a timer per call for
 * sequential callers): it fires once more, finds nothing, and stops. It is unref'd, so it
 * never keeps a process alive, and it holds no caller data.
 *
 * Reading the system clock can cost more than everything else a call does on some
 * virtual machines (the rateLimiter cases in docs/benchmarks.md), so with a `resolutionMs` > 0 the queue reads it only on a tick
 * every `resolutionMs` while deadlines are pending, and calls use that reading: a deadline
 * then fires between its time and `2 × resolutionMs` later, never earlier. With 0 every
 * call reads the clock and deadlines fire on time.
 */
export class DeadlineQueue {
  private head: DeadlineEntry | undefined;
  private tail: DeadlineEntry | undefined;
  private cancelTimer: CancelTimer | undefined;
  /** Coarse mode: the clock as read on the last tick, at most `resolutionMs` old while ticking. */
  private tickNow = 0;
  private readonly onTimer = (): void => this.fire();

  constructor(
    private readonly clock: Clock,
    private readonly resolutionMs = 0,
  ) {}

  /** The deadline `delayMs` from now; never earlier than that. */
  deadlineAfter(delayMs: number): number {
    if (this.resolutionMs <= 0) return this.clock.now() + delayMs;
    // While the tick runs, its reading is at most one resolution old: add one to stay on the late side.
    if (this.cancelTimer !== undefined) return this.tickNow + delayMs + this.resolutionMs;
    this.tickNow = this.clock.now();
    return this.tickNow + delayMs;
  }

  add(entry: DeadlineEntry): void {
    if (this.tail === undefined) {
      this.head = entry;
    } else {
      this.tail.nextEntry = entry;
    }
    this.tail = entry;
    if (this.cancelTimer === undefined) this.arm(entry.deadline);
  }

  /** Suggested resolution for a policy whose deadlines are `ms` away: 1 %, at most 100 ms, exact below 1 s. */
  static resolutionFor(ms: number): number {
    return ms >= 1000 ? Math.min(100, ms / 100) : 0;
  }

  /** Marks an entry finished; drops finished entries from the front. */
  settle(entry: DeadlineEntry): void {
    entry.settled = true;
    // Not the oldest: it is dropped when the calls before it are over.
    if (entry !== this.head) return;
    let head: DeadlineEntry | undefined = entry;
    do head = this.shift(head);
    while (head?.settled);
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
    entry.dequeued();
    return next;
  }

  private arm(deadline: number): void {
    const delay =
      this.resolutionMs > 0 ? this.resolutionMs : Math.max(0, deadline - this.clock.now());
    this.cancelTimer = this.clock.schedule(delay, this.onTimer, { unref: true });
  }

  private fire(): void {
    this.cancelTimer = undefined;
    const now = this.clock.now();
    this.tickNow = now;
    for (
      let head = this.head;
      head !== undefined && (head.settled || head.deadline <= now);
      head = this.head
    ) {
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
