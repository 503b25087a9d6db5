/**
 * faultline/redis: queues, checkpoints and shared policy state on Redis or Valkey.
 * ioredis is an optional peer dependency, loaded only by this entry point.
 */
export { RedisStore } from './redis-store.js';
export type { RedisStoreOptions } from './options.js';
export { createRedisClient } from './connection.js';
export type { RedisConnectionOptions } from './connection.js';
export { RedisCircuitBreaker } from './shared-circuit-breaker.js';
export type {
  RedisCircuitBreakerEvents,
  RedisCircuitBreakerOptions,
} from './shared-circuit-breaker.js';
export { RedisRateLimiter } from './rate-limiter.js';
export type {
  RedisRateLimiterEvents,
  RedisRateLimiterOptions,
  TakeResult,
} from './rate-limiter.js';
export { SharedRetryBudget } from './shared-retry-budget.js';
export type { SharedRetryBudgetEvents, SharedRetryBudgetOptions } from './shared-retry-budget.js';
export { RedisRetryBudget } from './retry-budget.js';
export type {
  RedisRetryBudgetEvents,
  RedisRetryBudgetOptions,
  RetryBudgetState,
} from './retry-budget.js';
export {
  describeRedisTarget,
  passwordOf,
  redactCredentials,
  redactError,
  redactRedisUrl,
} from './url.js';
export {
  escapeKeyPart,
  globalKey,
  objectTag,
  queueKeys,
  queueTag,
  unescapeKeyPart,
} from './keys.js';
export type { QueueKeys } from './keys.js';
export { defineScript, runScript, scriptLoads } from './script.js';
export type { LuaScript } from './script.js';
