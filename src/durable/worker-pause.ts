import type { Events } from '../observe/events.js';
import type { Decision } from '../recovery/plan.js';
import type { Clock } from '../time/clock.js';
import type { Queue } from './queue.js';
import type { WorkerEvents } from './worker-events.js';
import type { SummaryCounter } from './worker-summary.js';

/**
 * A plan's `pause` decision: the whole queue waits. The pause is written to the store, so every
 * worker (this one included) finds nothing to claim until it ends or a person resumes the queue.
 * Pauses that overlap extend each other; only the extension is counted.
 */
export class QueuePause {
  private pausedUntilMono = 0;
  private write: Promise<void> | undefined;

  constructor(
    private readonly queue: Queue<unknown>,
    private readonly clock: Clock,
    private readonly events: Events<WorkerEvents>,
    private readonly counter: SummaryCounter,
  ) {}

  /** Pauses the queue for `decision.delayMs`; false when an earlier pause already covers it. */
  pause(decision: Decision): boolean {
    const nowMono = this.clock.now();
    const untilMono = nowMono + decision.delayMs;
    const extension = untilMono - Math.max(this.pausedUntilMono, nowMono);
    if (extension <= 0) return false;
    this.counter.pauses++;
    this.counter.pausedMs += extension;
    this.pausedUntilMono = untilMono;
    const until = this.clock.wallTime() + decision.delayMs;
    this.write = this.queue.store
      .pause(this.queue.name, until, this.clock.wallTime())
      .catch((error) => this.events.emit('error', { error, during: 'pause' }));
    this.events.emit('paused', {
      queue: this.queue.name,
      until,
      delayMs: decision.delayMs,
      fault: decision.fault,
    });
    return true;
  }

  /** Called before each claim, so no job slips in before the pause is written. */
  async writeBeforeClaim(): Promise<void> {
    if (this.write === undefined) return;
    await this.write;
    this.write = undefined;
  }
}
