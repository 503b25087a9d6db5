import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import { BulkheadRejectedError } from '../faults/errors.js';
import { Events } from '../observe/events.js';
import {
  type ExecuteContext,
  withOperation,
  type ExecuteOptions,
  type Operation,
  type OperationContext,
  type Policy,
  type PolicyStats,
} from './policy.js';
import { settleCall } from './settle-call.js';
import { StatsCounter } from './stats.js';
import { WaitQueue } from './wait-queue.js';
import { enterCall, isRefused } from './call-entry.js';

/** Every option error names the option from `bulkhead`. */
const check = scoped('bulkhead');

/** Options of `bulkhead()`: `maxConcurrent` is required. */
export interface BulkheadOptions {
  /** Calls running at the same time. Required. */
  readonly maxConcurrent: number;
  /**
   * Callers that may wait for a slot (FIFO); beyond that, `BulkheadRejectedError`.
   * @defaultValue `0`
   */
  readonly maxQueued?: number;
  /**
   * Classifies failures for `stats().failuresByCategory`.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
  /**
   * A name for descriptions and events.
   * @defaultValue `undefined`
   */
  readonly name?: string;
}

export interface BulkheadRejection {
  readonly bulkhead: string | undefined;
  readonly active: number;
  readonly queued: number;
  readonly operation?: OperationContext;
}

export interface BulkheadEvents {
  /** A call was refused: every slot busy and the queue full. */
  rejected: BulkheadRejection;
}

export interface BulkheadStats extends PolicyStats {
  /** Calls running now. */
  readonly active: number;
  /** Callers waiting now. */
  readonly queued: number;
}

/**
 * Caps how many calls run at once (and how many may wait), so one slow dependency cannot take
 * every socket, worker or stream. A proxy answers 503 with the `BulkheadRejectedError`.
 */
export class Bulkhead implements Policy<BulkheadEvents> {
  readonly kind = 'bulkhead';
  readonly events = new Events<BulkheadEvents>();
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  private active = 0;
  private readonly queue = new WaitQueue();
  private readonly counter = new StatsCounter();
  private readonly classify: ClassifyFunction;
  private readonly name: string | undefined;

  constructor(options: BulkheadOptions) {
    const o = check.plainObject('options', options);
    check.knownKeys('bulkhead', o, ['maxConcurrent', 'maxQueued', 'classify', 'name']);
    this.maxConcurrent = check.positiveInteger('maxConcurrent', o.maxConcurrent);
    this.maxQueued = check.nonNegativeInteger('maxQueued', o.maxQueued ?? 0);
    this.classify =
      o.classify === undefined
        ? defaultClassify
        : check.fn<ClassifyFunction>('classify', o.classify);
    this.name = o.name === undefined ? undefined : String(o.name);
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.counter.executions++;
    if (this.active >= this.maxConcurrent) return this.executeQueued(fn, context);
    this.active++;
    // From here the caller holds a slot; the handlers release it to the next waiter or free it.
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  private async executeQueued<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    await this.waitForSlot(context.signal, context.operation);
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  private readonly succeeded = (value: unknown): unknown => {
    this.counter.successes++;
    this.release();
    return value;
  };

  private readonly failed = (error: unknown): never => {
    this.release();
    this.counter.failure(this.classify(error).category);
    throw error;
  };

  private waitForSlot(signal: AbortSignal, operation: OperationContext | undefined): Promise<void> {
    if (this.queue.length >= this.maxQueued) {
      this.counter.rejections++;
      if (this.events.has('rejected')) {
        const event: BulkheadRejection = {
          bulkhead: this.name,
          active: this.active,
          queued: this.queue.length,
        };
        this.events.emit('rejected', operation === undefined ? event : { ...event, operation });
      }
      return Promise.reject(
        withOperation(new BulkheadRejectedError(this.maxConcurrent, this.maxQueued), operation),
      );
    }
    return this.queue.wait(signal);
  }

  private release(): void {
    // Hand the slot straight to the oldest waiter: `active` never dips, so no newcomer can jump the queue.
    if (!this.queue.wakeNext()) this.active--;
  }

  stats(): BulkheadStats {
    return { ...this.counter.snapshot(), active: this.active, queued: this.queue.length };
  }

  describe(): string {
    const name = this.name === undefined ? '' : ` "${this.name}"`;
    return `bulkhead${name}: ${this.maxConcurrent} concurrent, ${this.maxQueued} queued`;
  }
}

/** Creates a bulkhead; see `BulkheadOptions`. */
export function bulkhead(options: BulkheadOptions): Bulkhead {
  return new Bulkhead(options);
}
