/**
 * A FIFO of callers waiting for their turn (a bulkhead slot, a rate-limiter token). Each
 * waiter can leave early when its signal aborts; its abort listener is removed whichever way
 * it leaves, so a long-lived caller signal collects nothing. Removal is O(1) (a linked list).
 */
class Waiter {
  prev: Waiter | undefined;
  next: Waiter | undefined;
  constructor(
    readonly queue: WaitQueue,
    readonly signal: AbortSignal,
    readonly resolve: () => void,
    readonly reject: (reason: unknown) => void,
  ) {}

  /** The abort listener: the waiter object itself, so no closure is made per wait. */
  handleEvent(): void {
    this.queue.abandon(this);
  }
}

export class WaitQueue {
  length = 0;
  private head: Waiter | undefined;
  private tail: Waiter | undefined;

  /** `onAbandon` runs after a waiter left because its signal aborted (e.g. to cancel a timer). */
  constructor(private readonly onAbandon?: () => void) {}

  /** Waits until `wakeNext` reaches this caller; rejects with the signal's reason on abort. */
  wait(signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter = new Waiter(this, signal, resolve, reject);
      if (this.tail === undefined) this.head = waiter;
      else {
        this.tail.next = waiter;
        waiter.prev = this.tail;
      }
      this.tail = waiter;
      this.length++;
      signal.addEventListener('abort', waiter, { once: true });
    });
  }

  /** Lets the oldest waiter go; false when nobody waits. */
  wakeNext(): boolean {
    const waiter = this.head;
    if (waiter === undefined) return false;
    this.unlink(waiter);
    waiter.signal.removeEventListener('abort', waiter);
    waiter.resolve();
    return true;
  }

  /** Called by a waiter whose signal aborted. */
  abandon(waiter: Waiter): void {
    this.unlink(waiter);
    waiter.reject(waiter.signal.reason);
    this.onAbandon?.();
  }

  private unlink(waiter: Waiter): void {
    if (waiter.prev === undefined) this.head = waiter.next;
    else waiter.prev.next = waiter.next;
    if (waiter.next === undefined) this.tail = waiter.prev;
    else waiter.next.prev = waiter.prev;
    waiter.prev = waiter.next = undefined;
    this.length--;
  }
}
