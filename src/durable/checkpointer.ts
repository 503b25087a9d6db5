import { scoped } from '../validate/scoped.js';
import { Events } from '../observe/events.js';
import type { CancelTimer, Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { fromJsonText, toJsonText } from './payload.js';
import type { DurableStore } from './store.js';

/** Every option error names the option from `checkpointer`. */
const check = scoped('checkpointer');

export interface CheckpointerOptions {
  /**
   * Save after this many `record` calls since the last save.
   * @defaultValue 100
   */
  readonly everyItems?: number;
  /**
   * Save when this long has passed since the last save, even with fewer items.
   * @defaultValue 5,000 ms
   */
  readonly everyMs?: number;
  /**
   * The clock that times `everyMs`.
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

/** A save that reached the store: every one is announced, so logs and metrics show how often progress is made durable. */
export interface CheckpointSavedEvent {
  readonly key: string;
  /** `record` calls this save covers (0 for a flush of state recorded before the last save). */
  readonly items: number;
  /** Size of the stored JSON. */
  readonly bytes: number;
  /** How long the write took, on the checkpointer's clock. */
  readonly durationMs: number;
  /** `due` (every N items or ms) or `flush` (asked for: pause, abort, shutdown). */
  readonly trigger: 'due' | 'flush';
}

export interface CheckpointFailedEvent {
  readonly key: string;
  readonly error: unknown;
}

export interface CheckpointerEvents {
  checkpointSaved: CheckpointSavedEvent;
  checkpointFailed: CheckpointFailedEvent;
}

/**
 * Progress that is not a queue: a crawl cursor, the parts of an upload. `record(state)` is
 * cheap and saves only when due; `flush()` saves now (call it on pause, abort and shutdown,
 * e.g. as a lifecycle cleanup hook); `load()` returns the last durable state. Each save is one
 * atomic write replacing the previous one, so a crash loses at most the items since it.
 */
export class Checkpointer<S = unknown> {
  readonly key: string;
  readonly events = new Events<CheckpointerEvents>();
  private readonly everyItems: number;
  private readonly everyMs: number;
  private readonly clock: Clock;
  private latest: { state: S } | undefined;
  private sinceSave = 0;
  private lastSaveMono: number;
  private writing: Promise<void> = Promise.resolve();
  private cancelTimer: CancelTimer | undefined;

  constructor(
    private readonly store: DurableStore,
    key: string,
    options: CheckpointerOptions = {},
  ) {
    if (typeof store !== 'object' || store === null || typeof store.putCheckpoint !== 'function') {
      throw check.configError('store', store, 'a DurableStore');
    }
    if (typeof key !== 'string' || key.length === 0)
      throw check.configError('key', key, 'a non-empty string');
    const opts = check.plainObject('options', options);
    check.knownKeys('checkpointer', opts, ['everyItems', 'everyMs', 'clock']);
    this.key = key;
    this.everyItems = check.countLimit('everyItems', options.everyItems ?? 100);
    this.everyMs = check.limit('everyMs', options.everyMs ?? 5_000);
    this.clock = options.clock ?? systemClock;
    this.lastSaveMono = this.clock.now();
  }

  /**
   * Notes the state after one more item. Saves (and resolves after the write) when `everyItems`
   * items or `everyMs` have passed since the last save; otherwise resolves at once and a timer
   * saves the state `everyMs` after the last save. Throws a TypeError naming a non-JSON path.
   */
  async record(state: S): Promise<void> {
    toJsonText(state, 'checkpoint');
    this.latest = { state };
    this.sinceSave++;
    if (this.sinceSave >= this.everyItems || this.clock.now() - this.lastSaveMono >= this.everyMs) {
      await this.save('due');
    } else if (this.cancelTimer === undefined && this.everyMs !== Number.POSITIVE_INFINITY) {
      const due = Math.max(0, this.lastSaveMono + this.everyMs - this.clock.now());
      this.cancelTimer = this.clock.schedule(
        due,
        () => void this.save('due').catch(() => undefined),
        { unref: true },
      );
    }
  }

  /** Saves the latest recorded state now, if it is not saved yet. Writes happen one at a time, in order. */
  flush(): Promise<void> {
    return this.save('flush');
  }

  private save(trigger: CheckpointSavedEvent['trigger']): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    const pending = this.latest;
    if (pending === undefined) return this.writing;
    const items = this.sinceSave;
    this.latest = undefined;
    this.sinceSave = 0;
    this.lastSaveMono = this.clock.now();
    const text = toJsonText(pending.state, 'checkpoint');
    const write = () => this.write(text, items, trigger);
    this.writing = this.writing.then(write, write);
    return this.writing;
  }

  private async write(
    text: string,
    items: number,
    trigger: CheckpointSavedEvent['trigger'],
  ): Promise<void> {
    const started = this.clock.now();
    try {
      await this.store.putCheckpoint(this.key, text, this.clock.wallTime());
    } catch (error) {
      if (this.events.has('checkpointFailed'))
        this.events.emit('checkpointFailed', { key: this.key, error });
      throw error;
    }
    if (this.events.has('checkpointSaved')) {
      this.events.emit('checkpointSaved', {
        key: this.key,
        items,
        bytes: Buffer.byteLength(text),
        durationMs: this.clock.now() - started,
        trigger,
      });
    }
  }

  /** The last saved state, or undefined when none was saved (or it was cleared). */
  async load(): Promise<S | undefined> {
    const record = await this.store.getCheckpoint(this.key);
    return fromJsonText<S>(record?.value);
  }

  /** Forgets the checkpoint: pending state is dropped and the stored one deleted. */
  async clear(): Promise<void> {
    this.cancelTimer?.();
    this.cancelTimer = undefined;
    this.latest = undefined;
    this.sinceSave = 0;
    await this.writing.catch(() => undefined);
    await this.store.deleteCheckpoint(this.key);
  }
}

/** `checkpointer(store, key, { everyItems, everyMs })`. */
export function checkpointer<S = unknown>(
  store: DurableStore,
  key: string,
  options?: CheckpointerOptions,
): Checkpointer<S> {
  return new Checkpointer<S>(store, key, options);
}
