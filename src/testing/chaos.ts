import { scoped } from '../validate/scoped.js';
import { classify } from '../faults/classify.js';
import { Events } from '../observe/events.js';
import { settleCall } from '../policies/settle-call.js';
import { StatsCounter } from '../policies/stats.js';
import type {
  ExecuteContext,
  ExecuteOptions,
  Operation,
  OperationContext,
  Policy,
  PolicyStats,
} from '../policies/policy.js';
import { type RandomSource, seededRandom } from '../recovery/random.js';
import type { Clock } from '../time/clock.js';
import { systemClock } from '../time/system-clock.js';
import { enterCall, isRefused } from '../policies/call-entry.js';

/** Every option error names the option from `chaos`. */
const check = scoped('chaos');

export interface ChaosOptions {
  /**
   * Share of calls (0–1) that throw `error` instead of running.
   * @defaultValue 0
   */
  readonly errorRate?: number;
  /**
   * What those calls throw: a value, or a function making one per call.
   * @defaultValue a `ChaosError` (ECONNRESET)
   */
  readonly error?: unknown;
  /**
   * Share of calls (0–1) that fail with an HTTP-like status (`ChaosHttpError`).
   * @defaultValue 0
   */
  readonly statusRate?: number;
  /**
   * Statuses picked from, uniformly.
   * @defaultValue [500, 502, 503, 504, 429]
   */
  readonly statuses?: readonly number[];
  /**
   * `Retry-After` (seconds) sent with injected 429 and 503 answers.
   * @defaultValue none
   */
  readonly retryAfterSeconds?: number;
  /**
   * Share of calls (0–1) delayed before they run.
   * @defaultValue 0
   */
  readonly latencyRate?: number;
  /**
   * The delay: fixed ms, or `[min, max]` picked uniformly.
   * @defaultValue 1000
   */
  readonly latencyMs?: number | readonly [number, number];
  /**
   * Seed of the random source, so a run can be replayed.
   * @defaultValue 1
   */
  readonly seed?: number;
  /**
   * A random source of your own (instead of `seed`).
   * @defaultValue a generator seeded with `seed`
   */
  readonly random?: RandomSource;
  /**
   * Latency waits on this clock (a VirtualClock in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
}

/** The network-like failure chaos throws by default. */
export class ChaosError extends Error {
  readonly code = 'ECONNRESET';
  readonly injected = true;
  constructor(message = 'chaos: injected connection reset') {
    super(message);
    this.name = 'ChaosError';
  }
}

/** An injected HTTP failure, shaped like the errors HTTP clients throw (`status`, `headers`). */
export class ChaosHttpError extends Error {
  readonly injected = true;
  readonly headers: Readonly<Record<string, string>>;
  constructor(
    readonly status: number,
    retryAfterSeconds?: number,
  ) {
    super(`chaos: injected HTTP ${status}`);
    this.name = 'ChaosHttpError';
    this.headers =
      retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
  }
}

export interface ChaosInjection {
  readonly kind: 'error' | 'status' | 'latency';
  readonly status?: number;
  readonly latencyMs?: number;
  readonly operation?: OperationContext;
}

export interface ChaosEvents {
  injected: ChaosInjection;
}

export interface ChaosStats extends PolicyStats {
  readonly injectedErrors: number;
  readonly injectedStatuses: number;
  readonly injectedLatencies: number;
}

/** Marks "no fault drawn" (a user's `error` function may well return undefined). */
const NOTHING: unique symbol = Symbol('nothing');

const DEFAULT_STATUSES: readonly number[] = [500, 502, 503, 504, 429];

/**
 * A policy that makes things go wrong on purpose, at a rate, from a seeded random source: to
 * prove in a test (or a staging run) that the policies around it recover. Put it innermost in
 * a pipeline, where the real dependency would fail. `enabled = false` turns it off at runtime.
 */
export class ChaosPolicy implements Policy<ChaosEvents> {
  readonly kind = 'chaos';
  readonly events = new Events<ChaosEvents>();
  /** Set to false to let every call through untouched. */
  enabled = true;
  private readonly errorRate: number;
  private readonly statusRate: number;
  private readonly latencyRate: number;
  private readonly error: unknown;
  private readonly statuses: readonly number[];
  private readonly retryAfterSeconds: number | undefined;
  private readonly latency: readonly [number, number];
  private readonly random: RandomSource;
  private readonly clock: Clock;
  private readonly counter = new StatsCounter();
  private injectedErrors = 0;
  private injectedStatuses = 0;
  private injectedLatencies = 0;

  constructor(options: ChaosOptions = {}) {
    const o = check.plainObject('options', options);
    check.knownKeys('chaos', o, [
      'errorRate',
      'error',
      'statusRate',
      'statuses',
      'retryAfterSeconds',
      'latencyRate',
      'latencyMs',
      'seed',
      'random',
      'clock',
    ]);
    this.errorRate = check.ratio('errorRate', o.errorRate ?? 0);
    this.statusRate = check.ratio('statusRate', o.statusRate ?? 0);
    if (this.errorRate + this.statusRate > 1) {
      throw check.configError(
        'statusRate',
        this.statusRate,
        `a number <= 1 - errorRate (${1 - this.errorRate}): one call fails one way`,
      );
    }
    this.latencyRate = check.ratio('latencyRate', o.latencyRate ?? 0);
    this.error = o.error;
    this.statuses = statusList(o.statuses ?? DEFAULT_STATUSES);
    this.retryAfterSeconds =
      o.retryAfterSeconds === undefined
        ? undefined
        : check.nonNegativeInteger('retryAfterSeconds', o.retryAfterSeconds);
    this.latency = latencyRange(o.latencyMs ?? 1_000);
    if (o.random !== undefined && o.seed !== undefined)
      throw check.configError('seed', o.seed, 'not both seed and random');
    this.random =
      o.random === undefined
        ? seededRandom(check.nonNegativeInteger('seed', o.seed ?? 1))
        : check.fn<RandomSource>('random', o.random);
    this.clock = (o.clock ?? systemClock) as Clock;
    if (typeof this.clock.sleep !== 'function')
      throw check.configError('clock', o.clock, 'a Clock');
  }

  execute<T>(fn: Operation<T>, options?: ExecuteOptions): Promise<T> {
    const context = enterCall(fn, options);
    if (isRefused(context)) return context.promise();
    this.counter.executions++;
    if (this.enabled) {
      if (this.latencyRate > 0 && this.random() < this.latencyRate)
        return this.executeDelayed(fn, context);
      const injected = this.drawFault(context);
      if (injected !== NOTHING) return Promise.reject(injected);
    }
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  private async executeDelayed<T>(fn: Operation<T>, context: ExecuteContext): Promise<T> {
    await this.delay(context);
    const injected = this.drawFault(context);
    if (injected !== NOTHING) throw injected;
    return settleCall(fn, context, this.succeeded as (value: T) => T, this.failed);
  }

  /** Decides whether this call fails on purpose; returns what to throw, or NOTHING. */
  private drawFault(context: ExecuteContext): unknown {
    const faultRate = this.errorRate + this.statusRate;
    if (faultRate === 0) return NOTHING;
    const draw = this.random();
    if (draw >= faultRate) return NOTHING;
    const injected =
      draw < this.errorRate ? this.injectError(context) : this.injectStatus(context.operation);
    this.counter.failure(classify(injected).category);
    return injected;
  }

  private readonly succeeded = (value: unknown): unknown => {
    this.counter.successes++;
    return value;
  };

  private readonly failed = (error: unknown): never => {
    this.counter.failure(classify(error).category);
    throw error;
  };

  private async delay(context: ExecuteContext): Promise<void> {
    const [min, max] = this.latency;
    const ms = min === max ? min : min + this.random() * (max - min);
    this.injectedLatencies++;
    this.emit({ kind: 'latency', latencyMs: ms }, context.operation);
    await this.clock.sleep(ms, context.signal);
  }

  private injectError(context: ExecuteContext): unknown {
    this.injectedErrors++;
    this.emit({ kind: 'error' }, context.operation);
    const error = this.error;
    if (error === undefined) return new ChaosError();
    return typeof error === 'function'
      ? (error as (context: ExecuteContext) => unknown)(context)
      : error;
  }

  private injectStatus(operation: OperationContext | undefined): ChaosHttpError {
    const statuses = this.statuses;
    const status =
      statuses[Math.min(statuses.length - 1, Math.floor(this.random() * statuses.length))]!;
    this.injectedStatuses++;
    this.emit({ kind: 'status', status }, operation);
    return new ChaosHttpError(
      status,
      status === 429 || status === 503 ? this.retryAfterSeconds : undefined,
    );
  }

  private emit(event: ChaosInjection, operation: OperationContext | undefined): void {
    if (this.events.has('injected'))
      this.events.emit('injected', operation === undefined ? event : { ...event, operation });
  }

  stats(): ChaosStats {
    return {
      ...this.counter.snapshot(),
      injectedErrors: this.injectedErrors,
      injectedStatuses: this.injectedStatuses,
      injectedLatencies: this.injectedLatencies,
    };
  }

  describe(): string {
    const parts: string[] = [];
    if (this.errorRate > 0) parts.push(`${this.errorRate * 100}% errors`);
    if (this.statusRate > 0)
      parts.push(`${this.statusRate * 100}% HTTP ${this.statuses.join('/')}`);
    if (this.latencyRate > 0)
      parts.push(`${this.latencyRate * 100}% +${this.latency[0]}–${this.latency[1]} ms`);
    return `chaos: ${parts.length === 0 ? 'nothing injected' : parts.join(', ')}`;
  }
}

/** Creates a chaos policy; see `ChaosOptions`. */
export function chaos(options?: ChaosOptions): ChaosPolicy {
  return new ChaosPolicy(options);
}

function statusList(value: unknown): readonly number[] {
  if (!Array.isArray(value) || value.length === 0)
    throw check.configError('statuses', value, 'a non-empty array of HTTP statuses');
  return value.map((s, i) => {
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 400 || s > 599)
      throw check.configError(`statuses[${i}]`, s, 'an HTTP error status (400–599)');
    return s;
  });
}

function latencyRange(value: unknown): readonly [number, number] {
  if (typeof value === 'number') {
    const ms = check.nonNegativeNumber('latencyMs', value);
    return [ms, ms];
  }
  if (!Array.isArray(value) || value.length !== 2)
    throw check.configError('latencyMs', value, 'ms, or [min, max] in ms');
  const min = check.nonNegativeNumber('latencyMs[0]', value[0]);
  const max = check.nonNegativeNumber('latencyMs[1]', value[1]);
  if (max < min) throw check.configError('latencyMs[1]', max, `a number >= latencyMs[0] (${min})`);
  return [min, max];
}
