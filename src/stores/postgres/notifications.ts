import type pg from 'pg';
import type { CancelTimer, Clock } from '../../time/clock.js';
import { connectListening } from './connection.js';
import { quoteIdent } from './schema.js';

/**
 * Wake-ups by LISTEN/NOTIFY: one connection per store (so one per process that opens one store,
 * however many workers it runs) listens on the store's channel and calls the listeners of the
 * queue named in each notification. It connects when the first listener subscribes and closes
 * when the last one leaves. A hint only: when the connection drops, it reconnects with backoff
 * and then wakes every listener once, since notifications sent meanwhile are gone; the
 * workers' polling covers the gap.
 */
export class WakeupChannel {
  private readonly listeners = new Map<string, Set<() => void>>();
  private client: pg.PoolClient | undefined;
  private connecting: Promise<void> | undefined;
  private retryTimer: CancelTimer | undefined;
  private failures = 0;
  private closed = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly channel: string,
    private readonly clock: Clock,
  ) {}

  subscribe(queue: string, listener: () => void): () => void {
    let set = this.listeners.get(queue);
    if (!set) {
      set = new Set();
      this.listeners.set(queue, set);
    }
    set.add(listener);
    this.ensureConnected();
    let subscribed = true;
    return () => {
      if (!subscribed) return;
      subscribed = false;
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(queue);
      if (this.listeners.size === 0) this.disconnect();
    };
  }

  /** True while the listening connection is up (for tests and health reports). */
  get listening(): boolean {
    return this.client !== undefined;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.connecting?.catch(() => undefined);
    this.disconnect();
  }

  private ensureConnected(): void {
    if (this.closed || this.client || this.connecting || this.retryTimer) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = undefined;
    });
  }

  private async connect(): Promise<void> {
    let client: pg.PoolClient | undefined;
    try {
      // Before it is ours, an error only fails the LISTEN below (the catch retries).
      const lost = () => {
        if (client) this.onLost(client);
      };
      client = await connectListening(this.pool, lost);
      client.on('notification', (message) => this.dispatch(message.payload));
      client.on('end', lost);
      await client.query(`LISTEN ${quoteIdent(this.channel)}`);
    } catch {
      if (client) client.release(true);
      this.scheduleRetry();
      return;
    }
    if (this.closed || this.listeners.size === 0) {
      client.release(true);
      return;
    }
    this.client = client;
    this.failures = 0;
    // Anything enqueued while nobody listened was not heard: let every worker look once.
    this.wakeAll();
  }

  private onLost(client: pg.PoolClient): void {
    if (this.client !== client) return;
    this.client = undefined;
    client.release(true);
    if (!this.closed && this.listeners.size > 0) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.closed || this.listeners.size === 0) return;
    const delay = Math.min(100 * 2 ** Math.min(this.failures++, 5), 3_000);
    this.retryTimer = this.clock.schedule(
      delay,
      () => {
        this.retryTimer = undefined;
        this.ensureConnected();
      },
      { unref: true },
    );
  }

  private disconnect(): void {
    this.retryTimer?.();
    this.retryTimer = undefined;
    const client = this.client;
    this.client = undefined;
    // Destroyed rather than returned: a connection that LISTENs must not serve other queries.
    client?.release(true);
  }

  private dispatch(queue: string | undefined): void {
    const set = queue === undefined ? undefined : this.listeners.get(queue);
    if (set) for (const listener of [...set]) listener();
  }

  private wakeAll(): void {
    for (const set of this.listeners.values()) for (const listener of [...set]) listener();
  }
}
