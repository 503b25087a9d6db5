import { scoped } from '../validate/scoped.js';
import { TimeBuckets } from './breaker-time-buckets.js';

/** Every option error names the option from `circuitBreaker`. */
const check = scoped('circuitBreaker');

/**
 * What opens a closed circuit. Options are plain data (so they validate, print and serialise);
 * each kind becomes a small strategy object that sees every counted outcome while closed.
 */
export type BreakerTrigger =
  /** Open after `failures` counted failures in a row (a success resets the count). */
  | { readonly kind: 'consecutive'; readonly failures: number }
  /** Open when the failure (or slow-call) rate over the last `size` calls reaches its threshold. */
  | ({ readonly kind: 'countWindow'; readonly size: number } & RateThresholds)
  /** Open when the failure (or slow-call) rate over the last `durationMs` reaches its threshold. */
  | ({
      readonly kind: 'timeWindow';
      readonly durationMs: number;
      /**
       * Buckets the window is split into (1 to 10,000).
       * @defaultValue `10`
       */
      readonly buckets?: number;
    } & RateThresholds);

export interface RateThresholds {
  /**
   * Failure ratio (0 < r ≤ 1) that opens the circuit.
   * @defaultValue `0.5`
   */
  readonly failureRate?: number;
  /**
   * Slow-call ratio (0 < r ≤ 1) that opens the circuit; needs `slowCallMs` on the breaker.
   * @defaultValue `1`
   */
  readonly slowCallRate?: number;
  /**
   * No decision is taken on fewer calls than this in the window.
   * @defaultValue `10` (at most the count window's size)
   */
  readonly minimumThroughput?: number;
}

/** The strategy behind a trigger. */
export interface TriggerStrategy {
  /** True when `record` needs the current time (time windows). */
  readonly needsTime: boolean;
  /** Records a counted outcome while closed; returns why the circuit should open, or undefined. */
  record(failed: boolean, slow: boolean, now: number): string | undefined;
  /** Forgets everything (on open, close and reset). */
  reset(): void;
  /** Counted failures in a row, for the snapshot (0 for windows). */
  readonly consecutiveFailures: number;
  /** Sets the count of failures in a row from a snapshot (windows ignore it). */
  resume(consecutiveFailures: number): void;
  /** In words, for `describe()`. */
  describe(): string;
}

export const DEFAULT_TRIGGER: BreakerTrigger = Object.freeze({ kind: 'consecutive', failures: 5 });

class ConsecutiveFailures implements TriggerStrategy {
  get needsTime(): boolean {
    return false;
  }
  consecutiveFailures = 0;
  constructor(private readonly threshold: number) {}

  record(failed: boolean, slow: boolean): string | undefined {
    // With slowCallMs set, a slow call counts as a failure here: there is no rate to compare.
    if (!failed && !slow) {
      this.consecutiveFailures = 0;
      return undefined;
    }
    if (++this.consecutiveFailures < this.threshold) return undefined;
    return `${this.consecutiveFailures} consecutive failures`;
  }

  reset(): void {
    this.consecutiveFailures = 0;
  }

  resume(consecutiveFailures: number): void {
    this.consecutiveFailures = Math.min(consecutiveFailures, this.threshold - 1);
  }

  describe(): string {
    return `${this.threshold} consecutive failures`;
  }
}

/** Compares window sums with the thresholds. */
function rateReason(
  total: number,
  failures: number,
  slow: number,
  t: Required<RateThresholds>,
  over: string,
): string | undefined {
  if (total < t.minimumThroughput) return undefined;
  if (failures / total >= t.failureRate)
    return `failure rate ${percent(failures / total)} >= ${percent(t.failureRate)} over ${total} calls in ${over}`;
  if (slow / total >= t.slowCallRate)
    return `slow-call rate ${percent(slow / total)} >= ${percent(t.slowCallRate)} over ${total} calls in ${over}`;
  return undefined;
}

function percent(r: number): string {
  return `${Math.round(r * 1000) / 10}%`;
}

const FAILED = 1;
const SLOW = 2;

/** The last `size` outcomes in a ring of bytes, with running sums. */
class CountWindow implements TriggerStrategy {
  readonly needsTime = false;
  readonly consecutiveFailures = 0;
  private outcomes: Uint8Array | undefined;
  private next = 0;
  private total = 0;
  private failures = 0;
  private slow = 0;

  constructor(
    private readonly size: number,
    private readonly thresholds: Required<RateThresholds>,
  ) {}

  record(failed: boolean, slow: boolean): string | undefined {
    if (this.outcomes === undefined) this.outcomes = new Uint8Array(this.size);
    const outcomes = this.outcomes;
    if (this.total === this.size) {
      const old = outcomes[this.next]!;
      if (old & FAILED) this.failures--;
      if (old & SLOW) this.slow--;
    } else {
      this.total++;
    }
    outcomes[this.next] = (failed ? FAILED : 0) | (slow ? SLOW : 0);
    if (failed) this.failures++;
    if (slow) this.slow++;
    if (++this.next === this.size) this.next = 0;
    return rateReason(
      this.total,
      this.failures,
      this.slow,
      this.thresholds,
      `the last ${this.size}`,
    );
  }

  resume(): void {}

  describe(): string {
    return `${describeRates(this.thresholds)} over the last ${this.size} calls`;
  }

  reset(): void {
    // The bytes stay: with total back at 0 none is read before it is written again.
    this.next = this.total = this.failures = this.slow = 0;
  }
}

/** Calls, failures and slow calls over a sliding time window of buckets. */
class TimeWindow implements TriggerStrategy {
  readonly needsTime = true;
  readonly consecutiveFailures = 0;
  private readonly window: TimeBuckets;

  constructor(
    durationMs: number,
    buckets: number,
    private readonly thresholds: Required<RateThresholds>,
  ) {
    this.window = new TimeBuckets(durationMs, buckets);
  }

  record(failed: boolean, slow: boolean, now: number): string | undefined {
    const w = this.window;
    w.add(now, 1, failed ? 1 : 0, slow ? 1 : 0);
    return rateReason(w.a, w.b, w.c, this.thresholds, `${w.durationMs} ms`);
  }

  resume(): void {}

  describe(): string {
    return `${describeRates(this.thresholds)} over ${this.window.durationMs} ms`;
  }

  reset(): void {
    this.window.clear();
  }
}

const TRIGGER_KINDS = ['consecutive', 'countWindow', 'timeWindow'] as const;

/** Validates a trigger option (ConfigError naming the field) and builds its strategy. */
export function createTrigger(value: unknown): TriggerStrategy {
  const t = check.plainObject('trigger', value);
  const kind = check.oneOf('trigger.kind', t.kind, TRIGGER_KINDS);
  if (kind === 'consecutive') {
    check.knownKeys('trigger', t, ['kind', 'failures']);
    return new ConsecutiveFailures(check.positiveInteger('trigger.failures', t.failures));
  }
  const rates = ['failureRate', 'slowCallRate', 'minimumThroughput'];
  if (kind === 'countWindow') {
    check.knownKeys('trigger', t, ['kind', 'size', ...rates]);
    const size = check.positiveInteger('trigger.size', t.size);
    if (size > 1_000_000)
      throw check.configError('trigger.size', size, 'a whole number from 1 to 1,000,000');
    return new CountWindow(size, thresholds(t, size));
  }
  check.knownKeys('trigger', t, ['kind', 'durationMs', 'buckets', ...rates]);
  const durationMs = check.positiveNumber('trigger.durationMs', t.durationMs);
  const buckets = check.positiveInteger('trigger.buckets', t.buckets ?? 10);
  if (buckets > 10_000)
    throw check.configError('trigger.buckets', buckets, 'a whole number from 1 to 10,000');
  return new TimeWindow(durationMs, buckets, thresholds(t, Number.POSITIVE_INFINITY));
}

function thresholds(t: Record<string, unknown>, maxThroughput: number): Required<RateThresholds> {
  const minimumThroughput = check.positiveInteger(
    'trigger.minimumThroughput',
    t.minimumThroughput ?? Math.min(10, maxThroughput),
  );
  if (minimumThroughput > maxThroughput) {
    throw check.configError(
      'trigger.minimumThroughput',
      minimumThroughput,
      `a whole number <= the window size (${maxThroughput})`,
    );
  }
  return {
    failureRate: rate('trigger.failureRate', t.failureRate ?? 0.5),
    slowCallRate: rate('trigger.slowCallRate', t.slowCallRate ?? 1),
    minimumThroughput,
  };
}

function rate(option: string, value: unknown): number {
  const r = check.ratio(option, value);
  if (r === 0)
    throw check.configError(
      option,
      value,
      'a number above 0 and at most 1 (0 would open on any call)',
    );
  return r;
}

function describeRates(t: Required<RateThresholds>): string {
  const slow = t.slowCallRate < 1 ? ` or slow-call rate ${percent(t.slowCallRate)}` : '';
  return `failure rate ${percent(t.failureRate)}${slow} (at least ${t.minimumThroughput} calls)`;
}
