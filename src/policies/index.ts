export type {
  ExecuteContext,
  ExecuteOptions,
  Operation,
  OperationContext,
  Policy,
  PolicyStats,
} from './policy.js';
export { retry, RetryPolicy } from './retry.js';
export type { DelayFactorSource, RetryEvents, RetryOptions, RetryStopReason } from './retry.js';
export { retryBudget, RetryBudget } from './retry-budget.js';
export type { RetryBudgetEvents, RetryBudgetOptions, RetryBudgetStats } from './retry-budget.js';
export { timeout, TimeoutPolicy } from './timeout.js';
export type { TimeoutEvents, TimeoutOptions, TimeoutStrategy } from './timeout.js';
export { fallback, FallbackPolicy } from './fallback.js';
export type { FallbackEvents, FallbackHandler, FallbackOptions } from './fallback.js';
export { hedge, HedgePolicy } from './hedge.js';
export type { HedgeEvents, HedgeOptions } from './hedge.js';
export { Pipeline, pipeline } from './pipeline.js';
export type { FallbackResults, PipelineStats, Stage } from './pipeline.js';
export { CircuitBreaker, circuitBreaker, DEFAULT_IGNORED_CATEGORIES } from './circuit-breaker.js';
export type {
  CircuitBreakerEvents,
  CircuitBreakerOptions,
  CircuitBreakerStats,
  CircuitRejection,
  CircuitStateChange,
} from './circuit-breaker.js';
export type { BreakerTiming, CircuitState } from './breaker-state.js';
export type { BreakerTrigger, RateThresholds } from './breaker-trigger.js';
export type { CircuitBreakerSnapshot } from './breaker-snapshot.js';
export { Bulkhead, bulkhead } from './bulkhead.js';
export type {
  BulkheadEvents,
  BulkheadOptions,
  BulkheadRejection,
  BulkheadStats,
} from './bulkhead.js';
export { RateLimiter, rateLimiter } from './rate-limiter.js';
export type {
  RateLimiterEvents,
  RateLimiterMode,
  RateLimiterOptions,
  RateLimiterStats,
  RateLimitRejection,
} from './rate-limiter.js';
export { adaptive, AdaptiveThrottle, ThrottledError } from './adaptive.js';
export type {
  AdaptiveEvents,
  AdaptiveOptions,
  AdaptiveStats,
  AdaptiveThrottled,
} from './adaptive.js';
export { fromPreset, presets } from './presets.js';
export type { FromPresetOptions, PolicyPreset, PresetName, PresetPolicies } from './presets.js';
