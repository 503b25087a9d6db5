import { scoped } from '../validate/scoped.js';
import { constantBackoff, exponentialBackoff } from '../recovery/backoff.js';
import { recoveryPlan } from '../recovery/plan.js';
import type { Clock } from '../time/clock.js';
import {
  type CircuitBreaker,
  circuitBreaker,
  type CircuitBreakerOptions,
} from './circuit-breaker.js';
import { type Pipeline, pipeline } from './pipeline.js';
import { retry, type RetryOptions, type RetryPolicy } from './retry.js';
import { type RetryBudget, retryBudget, type RetryBudgetOptions } from './retry-budget.js';
import { timeout, type TimeoutOptions, type TimeoutPolicy } from './timeout.js';

/** Every option error names the option from `fromPreset`. */
const check = scoped('fromPreset');

export type PresetName = 'development' | 'production' | 'test';

/**
 * Ready option sets; spread them and override what differs: `retry({ ...presets.production.retry, maxAttempts: 3 })`.
 * Their numbers are the archive downloader's (docs/scenarios.md): development 3 attempts, 0.5 s → 10 s
 * with jitter; production 5 attempts, 2 s → 5 min with jitter and a breaker of 5 failures / 120 s;
 * test 3 attempts, 10 ms → 100 ms without jitter.
 */
export interface PolicyPreset {
  readonly name: PresetName;
  readonly retry: RetryOptions;
  /** A circuit breaker in front of the dependency, when the preset has one. */
  readonly breaker?: CircuitBreakerOptions;
  readonly retryBudget: RetryBudgetOptions;
  readonly timeout: TimeoutOptions;
  /** Log every retry, give-up and timeout (see `fromPreset`). */
  readonly verbose: boolean;
}

const development: PolicyPreset = Object.freeze({
  name: 'development',
  // Fast feedback: few, short retries; a stuck call shows up within seconds.
  retry: Object.freeze({
    maxAttempts: 3,
    maxElapsedMs: 15_000,
    maxRetryAfterMs: 10_000,
    backoff: exponentialBackoff({ initialMs: 500, maxDelayMs: 10_000, jitter: 'full' }),
  }),
  retryBudget: Object.freeze({ ratio: 0.2, minRetriesPerSecond: 10 }),
  timeout: Object.freeze({ timeoutMs: 5_000, strategy: 'cooperative' as const }),
  verbose: true,
});

const production: PolicyPreset = Object.freeze({
  name: 'production',
  // Conservative: jittered exponential backoff with long caps, bounded in total, and a budget
  // so that retries never multiply the load on a dependency that is already failing.
  retry: Object.freeze({
    maxAttempts: 5,
    maxElapsedMs: 10 * 60_000,
    maxRetryAfterMs: 5 * 60_000,
    backoff: exponentialBackoff({ initialMs: 2_000, maxDelayMs: 5 * 60_000, jitter: 'full' }),
  }),
  // Stop calling a dependency that failed 5 times in a row; probe again after 2 minutes.
  breaker: Object.freeze({
    trigger: Object.freeze({ kind: 'consecutive' as const, failures: 5 }),
    halfOpenAfter: 120_000,
  }),
  retryBudget: Object.freeze({ ratio: 0.1, minRetriesPerSecond: 5, windowMs: 10_000 }),
  timeout: Object.freeze({ timeoutMs: 30_000, strategy: 'cooperative' as const }),
  verbose: false,
});

// Tiny, deterministic delays for every action, pauses included, so tests on the real clock stay quick.
const tiny = exponentialBackoff({ initialMs: 10, factor: 2, maxDelayMs: 100, jitter: 'none' });
const test: PolicyPreset = Object.freeze({
  name: 'test',
  retry: Object.freeze({
    maxAttempts: 3,
    maxRetryAfterMs: 1_000,
    backoff: tiny,
    plan: recoveryPlan({
      backoff: tiny,
      rules: { rate_limit: { action: 'pause', backoff: constantBackoff(10), maxAttempts: 3 } },
    }),
  }),
  retryBudget: Object.freeze({ ratio: 1, minRetriesPerSecond: 1_000 }),
  timeout: Object.freeze({ timeoutMs: 1_000, strategy: 'aggressive' as const }),
  verbose: false,
});

export const presets: Readonly<Record<PresetName, PolicyPreset>> = Object.freeze({
  development,
  production,
  test,
});

/** Options of `fromPreset()`; all optional. */
export interface FromPresetOptions {
  /**
   * The clock every policy of the preset uses (a `VirtualClock` in tests).
   * @defaultValue the system clock
   */
  readonly clock?: Clock;
  /**
   * Where verbose presets log.
   * @defaultValue `console.warn`
   */
  readonly log?: (message: string) => void;
}

export interface PresetPolicies {
  readonly retry: RetryPolicy;
  readonly retryBudget: RetryBudget;
  readonly timeout: TimeoutPolicy;
  /** The preset's circuit breaker (production), between the retry and the timeout. */
  readonly breaker: CircuitBreaker | undefined;
  /** `pipeline(retry, [breaker,] timeout)`: each attempt bounded, retries within the budget. */
  readonly pipeline: Pipeline;
}

/** Builds the preset's policies, sharing one budget and one clock; verbose presets log their events. */
export function fromPreset(name: PresetName, options: FromPresetOptions = {}): PresetPolicies {
  const preset = presets[check.oneOf('preset', name, Object.keys(presets) as PresetName[])];
  check.knownKeys('fromPreset', check.plainObject('fromPreset', options), ['clock', 'log']);
  if (options.log !== undefined) check.fn('log', options.log);
  if (options.clock !== undefined && typeof options.clock?.now !== 'function')
    throw check.configError('clock', options.clock, 'a Clock');
  const clock = options.clock === undefined ? {} : { clock: options.clock };
  const budget = retryBudget({ ...preset.retryBudget, ...clock });
  const retryPolicy = retry({ ...preset.retry, budget, ...clock });
  const timeoutPolicy = timeout({ ...preset.timeout, ...clock });
  const breaker =
    preset.breaker === undefined
      ? undefined
      : circuitBreaker({ ...preset.breaker, name: `${preset.name} preset`, ...clock });
  if (preset.verbose) {
    const log = options.log ?? ((message: string) => console.warn(message));
    const who = (op: { name: string } | undefined) => (op === undefined ? '' : ` [${op.name}]`);
    retryPolicy.events.on('retry', (e) => log(`faultline retry${who(e.operation)}: ${e.reason}`));
    retryPolicy.events.on('giveUp', (e) =>
      log(`faultline gave up${who(e.operation)} (${e.reason}): ${e.message}`),
    );
    timeoutPolicy.events.on('timeout', (e) =>
      log(`faultline timeout${who(e.operation)}: no result after ${e.timeoutMs} ms`),
    );
    budget.events.on('exhausted', (e) =>
      log(`faultline retry budget spent: ${e.retries} retries for ${e.requests} requests`),
    );
  }
  const calls =
    breaker === undefined
      ? pipeline(retryPolicy, timeoutPolicy)
      : pipeline(retryPolicy, breaker, timeoutPolicy);
  return {
    retry: retryPolicy,
    retryBudget: budget,
    timeout: timeoutPolicy,
    breaker,
    pipeline: calls,
  };
}
