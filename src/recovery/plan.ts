import { scoped } from '../validate/scoped.js';
import { BrokenCircuitError, FaultlineError } from '../faults/errors.js';
import {
  FAULT_CATEGORIES,
  type Fault,
  type FaultCategory,
  isFaultCategory,
} from '../faults/fault.js';
import { type Backoff, exponentialBackoff, isBackoff } from './backoff.js';
import type { RandomSource } from './random.js';
import {
  type PauseRule,
  type RecoveryRule,
  type RecoveryRuleInput,
  type RetryRule,
  categoryRecord,
  normaliseRule,
} from './rules.js';

/** Every option error names the option from `plan`. */
const check = scoped('plan');

/** What to do now. `give_up` is a retry or pause rule that ran out of attempts, time or patience. */
export type DecisionAction = 'retry' | 'pause' | 'skip' | 'abort' | 'fallback' | 'give_up';

export interface Decision {
  readonly action: DecisionAction;
  /** How long to wait before the next attempt (retry) or before resuming (pause); 0 otherwise. */
  readonly delayMs: number;
  /** One sentence a person can read in a log: why this action. */
  readonly reason: string;
  readonly suggestions: readonly string[];
  readonly fault: Fault;
  /** The attempt that failed (1 = the first). */
  readonly attempt: number;
}

export interface DecideInput {
  /** The attempt that just failed, 1 for the first. */
  readonly attempt: number;
  /** Time since the first attempt started. */
  readonly elapsedMs?: number;
  /** The previous delay, for decorrelated jitter. */
  readonly previousDelayMs?: number;
  /**
   * Stretches the backoff (not a server's Retry-After) by this factor, e.g. an adaptive
   * throttle's `delayFactor()` while the dependency struggles. Default 1; nonsense counts as 1.
   */
  readonly delayFactor?: number;
}

export interface RecoveryPlanOptions {
  /**
   * Per-category rules, replacing the defaults for those categories.
   * @defaultValue the default rule of each category (see docs/faults.md)
   */
  readonly rules?: Partial<Record<FaultCategory, RecoveryRuleInput>>;
  /**
   * Scale the backoff of a category: `{ rate_limit: 3, network: 0.5 }`. A server's Retry-After is
   * never scaled down.
   * @defaultValue none: 1 for every category
   */
  readonly delayMultipliers?: Partial<Record<FaultCategory, number>>;
  /**
   * Attempts in all (the first included) per category, overriding the rule's.
   * @defaultValue each rule's own
   */
  readonly maxAttempts?: Partial<Record<FaultCategory, number>>;
  /**
   * Backoff for retry rules that name none.
   * @defaultValue exponential, 1 s × 2, 30 s cap, full jitter
   */
  readonly backoff?: Backoff;
  /**
   * Jitter source (seed it in tests).
   * @defaultValue Math.random
   */
  readonly random?: RandomSource;
}

const DEFAULT_RETRY_ATTEMPTS = 5;
const DEFAULT_MAX_WAIT_MS = 5 * 60_000;
const DEFAULT_MAX_PAUSE_MS = 60 * 60_000;
const DEFAULT_PAUSE_BACKOFF = exponentialBackoff({
  initialMs: 5_000,
  maxDelayMs: 5 * 60_000,
  jitter: 'equal',
});

/** The plan services converge on; see docs/architecture.md for the reasoning. */
export const DEFAULT_RULES: Readonly<Record<FaultCategory, RecoveryRule>> = Object.freeze({
  auth: { action: 'abort' },
  rate_limit: { action: 'pause', maxAttempts: 10 },
  network: { action: 'retry', maxAttempts: DEFAULT_RETRY_ATTEMPTS },
  timeout: { action: 'retry', maxAttempts: DEFAULT_RETRY_ATTEMPTS },
  unavailable: { action: 'retry', maxAttempts: DEFAULT_RETRY_ATTEMPTS },
  conflict: { action: 'retry', maxAttempts: DEFAULT_RETRY_ATTEMPTS },
  validation: { action: 'skip' },
  permanent: { action: 'skip' },
  resource: { action: 'abort' },
  cancelled: { action: 'abort' },
  unknown: { action: 'retry', maxAttempts: 3 },
});

/** A category's rule with the plan's overrides applied: what `plan.rule(category)` returns. */
export interface ResolvedRule {
  readonly action: RecoveryRule['action'];
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  readonly maxWaitMs: number;
  readonly maxElapsedMs: number;
  readonly multiplier: number;
  readonly whenExhausted: 'give_up' | 'abort';
}

/**
 * A recovery plan maps each fault category to an action. The same plan drives in-process
 * retries and durable workers, so a service states its recovery rules once.
 */
export class RecoveryPlan {
  private readonly resolved: Readonly<Record<FaultCategory, ResolvedRule>>;
  private readonly random: RandomSource;

  constructor(options: RecoveryPlanOptions = {}) {
    const opts = check.plainObject('plan', options);
    check.knownKeys('plan', opts, [
      'rules',
      'delayMultipliers',
      'maxAttempts',
      'backoff',
      'random',
    ]);
    const rules = categoryRecord('rules', options.rules, normaliseRule);
    const multipliers = categoryRecord(
      'delayMultipliers',
      options.delayMultipliers,
      check.nonNegativeNumber,
    );
    const attempts = categoryRecord('maxAttempts', options.maxAttempts, check.countLimit);
    if (options.backoff !== undefined && !isBackoff(options.backoff)) {
      throw check.configError(
        'backoff',
        options.backoff,
        'a backoff made by exponentialBackoff(), linearBackoff() or constantBackoff()',
      );
    }
    const backoff = options.backoff ?? exponentialBackoff();
    this.random = options.random === undefined ? Math.random : check.fn('random', options.random);
    const resolved = {} as Record<FaultCategory, ResolvedRule>;
    for (const category of FAULT_CATEGORIES) {
      const rule = rules[category] ?? DEFAULT_RULES[category];
      const waiting =
        rule.action === 'retry' || rule.action === 'pause'
          ? (rule as RetryRule | PauseRule)
          : undefined;
      const pause = rule.action === 'pause';
      resolved[category] = Object.freeze({
        action: rule.action,
        maxAttempts:
          attempts[category] ?? waiting?.maxAttempts ?? (pause ? 10 : DEFAULT_RETRY_ATTEMPTS),
        backoff: waiting?.backoff ?? (pause ? DEFAULT_PAUSE_BACKOFF : backoff),
        maxWaitMs: waiting?.maxWaitMs ?? (pause ? DEFAULT_MAX_PAUSE_MS : DEFAULT_MAX_WAIT_MS),
        maxElapsedMs: waiting?.maxElapsedMs ?? Number.POSITIVE_INFINITY,
        multiplier: multipliers[category] ?? 1,
        whenExhausted:
          (rule.action === 'retry' ? (rule as RetryRule).whenExhausted : undefined) ?? 'give_up',
      });
    }
    this.resolved = Object.freeze(resolved);
  }

  /** The rule in force for a category, with every default filled in. */
  rule(category: FaultCategory): ResolvedRule {
    return this.resolved[category];
  }

  /** Decides what to do about `fault`, which ended attempt number `input.attempt`. */
  decide(fault: Fault, input: DecideInput): Decision {
    if (typeof fault !== 'object' || fault === null || !isFaultCategory(fault.category)) {
      throw check.configError('fault', fault, 'a Fault (pass the error through classify() first)');
    }
    const attempt = input?.attempt;
    if (typeof attempt !== 'number' || !Number.isSafeInteger(attempt) || attempt < 1) {
      throw check.configError(
        'attempt',
        attempt,
        'a whole number >= 1 (the attempt that just failed)',
      );
    }
    // Elapsed time is measured by callers (possibly across clocks); nonsense counts as none.
    const elapsedMs = positiveOrZero(input.elapsedMs);
    const rule = this.resolved[fault.category];
    const base = { fault, attempt, suggestions: fault.suggestions };
    switch (rule.action) {
      case 'skip':
        return {
          ...base,
          action: 'skip',
          delayMs: 0,
          reason: `${label(fault)}: not retried (${fault.category} errors are skipped)`,
        };
      case 'abort':
        return {
          ...base,
          action: 'abort',
          delayMs: 0,
          reason: `${label(fault)}: stopping (${fault.category} errors abort the work)`,
        };
      case 'fallback':
        return {
          ...base,
          action: 'fallback',
          delayMs: 0,
          reason: `${label(fault)}: using the fallback`,
        };
    }
    if (!fault.retryable) {
      return {
        ...base,
        action: 'skip',
        delayMs: 0,
        reason: `${label(fault)}: marked not retryable`,
      };
    }
    if (attempt >= rule.maxAttempts) {
      return exhausted(
        rule,
        base,
        `${label(fault)}: gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} (limit ${rule.maxAttempts})`,
      );
    }
    const delayFactor = usableDelayFactor(input.delayFactor);
    const delayMs = Math.ceil(
      this.delayFor(rule, fault, attempt, positiveOrZero(input.previousDelayMs), delayFactor),
    );
    if (delayMs > rule.maxWaitMs) {
      return exhausted(
        rule,
        base,
        `${label(fault)}: would have to wait ${formatMs(delayMs)}, more than the ${formatMs(rule.maxWaitMs)} allowed`,
      );
    }
    if (elapsedMs + delayMs > rule.maxElapsedMs) {
      return exhausted(
        rule,
        base,
        `${label(fault)}: out of time (${formatMs(rule.maxElapsedMs)} allowed in all)`,
      );
    }
    const asked = waitSource(fault, delayMs);
    return {
      ...base,
      action: rule.action,
      delayMs,
      reason:
        rule.action === 'pause'
          ? `${label(fault)}: pausing for ${formatMs(delayMs)}${asked}`
          : `${label(fault)}: retry ${attempt + 1}/${rule.maxAttempts === Number.POSITIVE_INFINITY ? '∞' : rule.maxAttempts} in ${formatMs(delayMs)}${asked}`,
    };
  }

  /**
   * How long to wait. A pause waits for the server's Retry-After when it gave one (a multiplier
   * only lengthens it) and for the backoff otherwise. A retry waits for the scaled backoff, but
   * never less than a Retry-After: we never come back earlier than the server asked.
   */
  private delayFor(
    rule: ResolvedRule,
    fault: Fault,
    attempt: number,
    previousDelayMs: number,
    delayFactor: number,
  ): number {
    const retryAfterMs = fault.retryAfterMs;
    if (rule.action === 'pause' && retryAfterMs !== undefined)
      return retryAfterMs * Math.max(1, rule.multiplier);
    const backoffMs =
      rule.backoff.delay(attempt, previousDelayMs, this.random) * rule.multiplier * delayFactor;
    return retryAfterMs === undefined ? backoffMs : Math.max(retryAfterMs, backoffMs);
  }

  /** One row per category, for docs, logs and the CLI. */
  describe(): {
    category: FaultCategory;
    action: string;
    maxAttempts: number;
    multiplier: number;
  }[] {
    return FAULT_CATEGORIES.map((category) => {
      const r = this.resolved[category];
      return { category, action: r.action, maxAttempts: r.maxAttempts, multiplier: r.multiplier };
    });
  }
}

/**
 * Where a wait comes from, in words: exactly what the server asked, longer than it asked (a
 * multiplier or the backoff), or a local policy's refusal (an open breaker is not the server).
 */
function waitSource(fault: Fault, delayMs: number): string {
  const askedMs = fault.retryAfterMs;
  if (askedMs === undefined) return '';
  const cause = fault.cause;
  if (cause instanceof FaultlineError && cause.refusedLocally) {
    return cause instanceof BrokenCircuitError
      ? ', when the circuit breaker lets calls through again'
      : `, when the local ${cause.name} allows`;
  }
  return delayMs <= askedMs
    ? ' as the server asked'
    : ` (the server asked for ${formatMs(askedMs)})`;
}

/** Give up on this piece of work, or, for a rule that says so, stop all of it. */
function exhausted(
  rule: ResolvedRule,
  base: Pick<Decision, 'fault' | 'attempt' | 'suggestions'>,
  reason: string,
): Decision {
  if (rule.whenExhausted === 'abort') {
    return {
      ...base,
      action: 'abort',
      delayMs: 0,
      reason: `${reason}; stopping (exhausted ${base.fault.category} retries abort the work)`,
    };
  }
  return { ...base, action: 'give_up', delayMs: 0, reason };
}

/** A delay factor as given, or 1 when it is not a finite number >= 0 (nonsense must not stop retries). */
export function usableDelayFactor(factor: unknown): number {
  return typeof factor === 'number' && Number.isFinite(factor) && factor >= 0 ? factor : 1;
}

/**
 * A recovery plan: the default rules with `options` applied (per-category rules, delay
 * multipliers and attempt limits). Invalid options throw ConfigError naming option and value.
 */
export function recoveryPlan(options?: RecoveryPlanOptions): RecoveryPlan {
  return new RecoveryPlan(options);
}

/** The default plan, shared; plans are immutable. */
export const defaultPlan: RecoveryPlan = new RecoveryPlan();

function positiveOrZero(value: number | undefined): number {
  return typeof value === 'number' && value > 0 && Number.isFinite(value) ? value : 0;
}

function label(fault: Fault): string {
  const detail = fault.status ?? fault.code;
  return detail === undefined ? fault.category : `${fault.category} (${detail})`;
}

/** A duration for people: `250 ms`, `1.5 s`, `2.0 min`, `1.0 h`, `forever`. */
export function formatMs(ms: number): string {
  if (ms === Number.POSITIVE_INFINITY) return 'forever';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms % 1000 === 0 ? 0 : 1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
