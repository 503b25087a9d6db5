import type { Clock } from '../time/clock.js';
import type { DurableStore, Outcome } from './store.js';

interface PendingAck {
  readonly outcome: Outcome;
  readonly resolve: (applied: boolean) => void;
}

/**
 * Collects job outcomes and writes them to the store in batches: every outcome reported in
 * the same turn of the event loop goes out in one `settle` call (one transaction) a turn
 * later. While a write is in flight new outcomes wait for the next one, so under load batches
 * grow by themselves. A failed write is tried again a few times; after that the outcomes are
 * dropped and the jobs come back when their leases expire (at-least-once). While such a retry
 * waits, the process stays alive.
 *
 * After a fault that cannot heal (a full disk, a read-only file) the worker stops, but its
 * outcomes still matter: if the store recovers while the worker is stopping, a late hand-back
 * or completion takes back the strike its expired lease cost (no crash-loop count for a job its
 * store failed). So those writes are tried again, with everything reported meanwhile, every
 * `retryDelayMs` until `close()` (the end of the worker's stop) or `maxHopelessTries`.
 */
export class AckBatcher {
  private pending: PendingAck[] = [];
  private flushing: Promise<void> | undefined;
  private scheduled = false;

  constructor(
    private readonly store: DurableStore,
    private readonly clock: Clock,
    /** Told of every failed write; returning true means "this cannot heal": no more tries. */
    private readonly onError: (error: unknown) => boolean | undefined,
    private readonly retryDelayMs: number,
    private readonly maxTries = 3,
    private readonly maxHopelessTries = 30,
  ) {}

  private closed = false;

  /** The batch a retry is waiting to write again, if any. */
  private retrying: PendingAck[] | undefined;

  /**
   * Stops retrying: what could not be written by now is dropped at once (its leases expire),
   * so every run waiting on it can report its outcome as unrecorded before the worker stops.
   */
  close(): void {
    this.closed = true;
    if (this.retrying) drop(this.retrying);
    drop(this.pending.splice(0));
  }

  /** Resolves true when the outcome was applied, false when the lease was lost or the store failed. */
  push(outcome: Outcome): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      this.pending.push({ outcome, resolve });
      if (!this.scheduled && this.flushing === undefined) {
        this.scheduled = true;
        // setImmediate (not a timer): runs after every completion of this turn has been pushed.
        // Twice: the worker's claim for the slots these jobs freed goes out first (it waits one
        // turn too), so the store prepares the next batch before writing these outcomes, and
        // the worker runs that batch while the store writes them.
        setImmediate(() =>
          setImmediate(() => {
            this.scheduled = false;
            void this.flush();
          }),
        );
      }
    });
  }

  get size(): number {
    return this.pending.length;
  }

  /** Writes everything pending now; resolves when the store has answered (or given up). */
  async flush(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.write(batch);
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
    if (this.pending.length > 0 && !this.scheduled) await this.flush();
  }

  private async write(first: PendingAck[]): Promise<void> {
    let batch = first;
    let tries = 0;
    let hopelessTries = 0;
    for (;;) {
      tries++;
      try {
        const { lost } = await this.store.settle(
          batch.map((b) => b.outcome),
          this.clock.wallTime(),
        );
        const lostSet = new Set(lost);
        for (const ack of batch) ack.resolve(!lostSet.has(ack.outcome.id));
        return;
      } catch (error) {
        const hopeless = this.onError(error) === true;
        if (hopeless) hopelessTries++;
        const giveUp = hopeless ? hopelessTries >= this.maxHopelessTries : tries >= this.maxTries;
        if (giveUp || this.closed) return drop(batch);
        // Ref'd timers: during an outage this retry may be all that keeps the process alive
        // (a stopping worker waits for it), and an unref'd one let it exit silently with the
        // outcomes unwritten. Both are bounded (maxTries, maxHopelessTries or close()).
        if (!hopeless) {
          await this.clock.sleep(this.retryDelayMs * tries);
          continue;
        }
        this.retrying = batch;
        await this.clock.sleep(this.retryDelayMs);
        this.retrying = undefined;
        if (this.closed) return drop(batch);
        // What was reported meanwhile (the stop hands back every held job) goes in the same write.
        batch = batch.concat(this.pending.splice(0));
      }
    }
  }
}

function drop(batch: readonly PendingAck[]): void {
  for (const ack of batch) ack.resolve(false);
}
