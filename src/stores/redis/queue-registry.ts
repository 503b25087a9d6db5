import type { Redis } from 'ioredis';
import type { QueueScripts } from './queue-scripts.js';

/**
 * The names of the queues a Redis store has written to: one set, `{<prefix>:queues}`, added to by
 * every enqueue and pause. A name stays after its queue empties; `live()` leaves those out.
 */
export class QueueRegistry {
  constructor(
    private readonly client: Redis,
    private readonly key: string,
    private readonly scriptsOf: (queue: string) => QueueScripts,
  ) {}

  async register(queue: string): Promise<void> {
    await this.client.sadd(this.key, queue);
  }

  /** Every registered name, in no order. */
  all(): Promise<string[]> {
    return this.client.smembers(this.key);
  }

  /** The named queue, or every registered one. */
  async of(queue: string | undefined): Promise<string[]> {
    return queue !== undefined ? [queue] : this.all();
  }

  /** The queues that hold any job or pause state, sorted. */
  async live(): Promise<string[]> {
    const names = await this.all();
    const live = await Promise.all(
      names.map(async (name) => {
        const k = this.scriptsOf(name).keys;
        const [sizes, paused] = await Promise.all([
          this.client.exists(k.waiting, k.delayed, k.running, k.completed, k.dead),
          this.client.hexists(k.meta, 'pausedUntil'),
        ]);
        return sizes > 0 || paused === 1 ? name : undefined;
      }),
    );
    return live.filter((name): name is string => name !== undefined).sort();
  }
}
