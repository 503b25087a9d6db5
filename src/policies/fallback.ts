import { scoped } from '../validate/scoped.js';
import { classify as defaultClassify, type ClassifyFunction } from '../faults/classify.js';
import type { Fault, FaultCategory } from '../faults/fault.js';
import { Events } from '../observe/events.js';
import {
  type ExecuteContext,
  type ExecuteOptions,
  type Operation,
  type OperationContext,
  type PolicyStats,
  ROOT_CONTEXT,
} from './policy.js';
import { settleCall } from './settle-call.js';
import { StatsCounter } from './stats.js';
import { enterCall, isRefused } from './call-entry.js';

/** Every option error names the option from `fallback`. */
const check = scoped('fallback');

/** Makes the substitute result from the fault (and the context the call ran under). */
export type FallbackHandler<R> = (fault: Fault, context: ExecuteContext) => PromiseLike<R> | R;

/** Options of `fallback()`: a `value` or a `handler` is required. */
export type FallbackOptions<R> = (
  | {
      /** The substitute result (a placeholder, a stale value). Required, or `handler`. */
      readonly value: R;
    }
  | {
      /**
       * Computes the substitute from the fault (a cached copy, a degraded answer). Required,
       * or `value`.
       */
      readonly handler: FallbackHandler<R>;
    }
) & {
  /**
   * Fall back only for these categories.
   * @defaultValue every category but `cancelled`
   */
  readonly categories?: readonly FaultCategory[];
  /**
   * Turns thrown values into faults.
   * @defaultValue the built-in `classify`
   */
  readonly classify?: ClassifyFunction;
};

export interface FallbackEvents {
  readonly fallback: { readonly fault: Fault; readonly operation: OperationContext | undefined };
}

const KEYS = ['value', 'handler', 'categories', 'classify'];

/**
 * Graceful degradation: when the call fails with a fault of a chosen category, the caller
 * gets a substitute instead of the error. A call the caller aborted is never replaced.
 * Unlike the other policies its result type widens: `execute` returns `T | R`.
 */
export class FallbackPolicy<R> {
  readonly kind = 'fallback';
  readonly events = new Events<FallbackEvents>();
  private readonly handler: FallbackHandler<R>;
  private readonly categories: ReadonlySet<FaultCategory> | undefined;
  private readonly classify: ClassifyFunction;
  private readonly counter = new StatsCounter();
  private fallbacks = 0;

  constructor(options: FallbackOptions<R>) {
    const opts = check.plainObject('fallback', options);
    check.knownKeys('fallback', opts, KEYS);
    const hasValue = 'value' in opts;
    const hasHandler = 'handler' in opts;
    if (hasValue === hasHandler) {
      throw check.configError('fallback', options, 'exactly one of { value } or { handler }');
    }
    if (hasHandler) {
      this.handler = check.fn('handler', opts.handler);
    } else {
      const value = opts.value as R;
      this.handler = () => value;
    }
    if (options.categories !== undefined) {
      if (!Array.isArray(options.categories))
        throw check.configError('categories', options.categories, 'an array of fault categories');
      this.categories = new Set(
        options.categories.map((c, i) => check.category(`categories[${i}]`, c)),
      );
    }
    this.classify =
      options.classify === undefined ? defaultClassify : check.fn('classify', options.classify);
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T | R> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.counter.executions++;
    // No async frame: shared handlers, and a per-call one only when the context is the caller's own.
    const onFailure =
      context === ROOT_CONTEXT
        ? this.failedAtRoot
        : (error: unknown) => this.failed(error, context);
    return settleCall<T | R>(fn, context, this.succeeded as (value: T | R) => T | R, onFailure);
  }

  private readonly succeeded = (value: unknown): unknown => {
    this.counter.successes++;
    return value;
  };

  private readonly failedAtRoot = (error: unknown): R | PromiseLike<R> =>
    this.failed(error, ROOT_CONTEXT);

  /** Substitutes the result for a fault this policy handles; rethrows anything else. */
  private failed(error: unknown, context: ExecuteContext): R | PromiseLike<R> {
    const fault = this.classify(error);
    this.counter.failure(fault.category);
    if (context.signal.aborted || !this.handles(fault)) throw error;
    this.fallbacks++;
    if (this.events.has('fallback'))
      this.events.emit('fallback', { fault, operation: context.operation });
    return this.handler(fault, context);
  }

  stats(): PolicyStats & { readonly fallbacks: number } {
    return { ...this.counter.snapshot(), fallbacks: this.fallbacks };
  }

  describe(): string {
    return `fallback(${this.categories === undefined ? 'any fault' : [...this.categories].join(', ')})`;
  }

  private handles(fault: Fault): boolean {
    return this.categories === undefined
      ? fault.category !== 'cancelled'
      : this.categories.has(fault.category);
  }
}

/** `fallback({ value: placeholder })` or `fallback({ handler: (fault) => staleCopy, categories: ['network'] })`. */
export function fallback<R>(options: FallbackOptions<R>): FallbackPolicy<R> {
  return new FallbackPolicy(options);
}
