import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createDashboard } from '../../src/dashboard/index.js';
import { Checkpointer } from '../../src/durable/checkpointer.js';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { ConfigError } from '../../src/faults/errors.js';
import { healthMonitor } from '../../src/health/health-monitor.js';
import { poll } from '../../src/health/poll.js';
import { refreshable } from '../../src/health/refreshable.js';
import { refreshableMap } from '../../src/health/refreshable-map.js';
import { lifecycle } from '../../src/lifecycle/lifecycle.js';
import { adaptive } from '../../src/policies/adaptive.js';
import { bulkhead } from '../../src/policies/bulkhead.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { fallback } from '../../src/policies/fallback.js';
import { hedge } from '../../src/policies/hedge.js';
import { fromPreset } from '../../src/policies/presets.js';
import { rateLimiter } from '../../src/policies/rate-limiter.js';
import { retry } from '../../src/policies/retry.js';
import { retryBudget } from '../../src/policies/retry-budget.js';
import { timeout } from '../../src/policies/timeout.js';
import { exponentialBackoff, linearBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/memory-store.js';
import { PostgresStore } from '../../src/stores/postgres/postgres-store.js';
import { RedisRateLimiter } from '../../src/stores/redis/rate-limiter.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';
import { RedisRetryBudget } from '../../src/stores/redis/retry-budget.js';
import { RedisCircuitBreaker } from '../../src/stores/redis/shared-circuit-breaker.js';
import { SharedRetryBudget } from '../../src/stores/redis/shared-retry-budget.js';
import { SqliteStore } from '../../src/stores/sqlite/sqlite-store.js';
import { chaos } from '../../src/testing/chaos.js';
import { flakyServer } from '../../src/testing/flaky-server.js';

// Never connects: the options are checked before any command is sent.
const redis = new Redis({ lazyConnect: true });
afterAll(() => redis.disconnect());

const store = new MemoryStore();
const queue = new Queue(store, 'q');

/** The ConfigError `make` throws or rejects with (fails the test on anything else, or nothing). */
async function configErrorOf(make: () => unknown): Promise<ConfigError> {
  try {
    await make();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError was thrown');
}

/** factory name → a call with one bad value, and the option the error must name. */
const BAD_VALUES: readonly [string, () => unknown, string][] = [
  ['retry', () => retry({ maxAttempts: -1 }), 'retry.maxAttempts'],
  ['timeout', () => timeout({ timeoutMs: -1 }), 'timeout.timeoutMs'],
  ['fallback', () => fallback({ handler: 5 as never }), 'fallback.handler'],
  ['circuitBreaker', () => circuitBreaker({ halfOpenAfter: -1 }), 'circuitBreaker.halfOpenAfter'],
  ['bulkhead', () => bulkhead({ maxConcurrent: 0 }), 'bulkhead.maxConcurrent'],
  ['rateLimiter', () => rateLimiter({ rate: -1, burst: 1 }), 'rateLimiter.rate'],
  ['retryBudget', () => retryBudget({ ratio: 2 }), 'retryBudget.ratio'],
  ['hedge', () => hedge({ delayMs: -1 }), 'hedge.delayMs'],
  ['adaptive', () => adaptive({ k: -1 }), 'adaptive.k'],
  ['fromPreset', () => fromPreset('production', { log: 5 as never }), 'fromPreset.log'],
  ['recoveryPlan', () => recoveryPlan({ random: 5 as never }), 'plan.random'],
  ['exponentialBackoff', () => exponentialBackoff({ factor: -1 }), 'exponentialBackoff.factor'],
  ['linearBackoff', () => linearBackoff({ initialMs: -1 }), 'linearBackoff.initialMs'],
  ['healthMonitor', () => healthMonitor({ failureThreshold: 0 }), 'healthMonitor.failureThreshold'],
  ['poll', () => poll(() => true, { intervalMs: -1 } as never), 'poll.intervalMs'],
  ['refreshable', () => refreshable(async () => 1, { ttlMs: -1 }), 'refreshable.ttlMs'],
  ['refreshableMap', () => refreshableMap(async () => 1, { ttlMs: -1 }), 'refreshable.ttlMs'],
  ['lifecycle', () => lifecycle({ graceMs: -1 }), 'lifecycle.graceMs'],
  ['queue', () => new Queue(store, 'q', { retention: 5 as never }), 'queue.retention'],
  ['worker', () => new Worker(queue, () => undefined, { leaseMs: -1 }), 'worker.leaseMs'],
  [
    'checkpointer',
    () => new Checkpointer(store, 'k', { everyItems: 0 }),
    'checkpointer.everyItems',
  ],
  ['chaos', () => chaos({ errorRate: 2 }), 'chaos.errorRate'],
  ['flakyServer', () => flakyServer({ port: -1 }), 'flakyServer.port'],
  ['dashboard', () => createDashboard({ store, readOnly: 5 as never }), 'dashboard.readOnly'],
  [
    'sqliteStore',
    () => new SqliteStore(':memory:', { busyTimeoutMs: -1 }),
    'sqliteStore.busyTimeoutMs',
  ],
  [
    'redisStore',
    () => new RedisStore({ url: 'redis://x', prefix: 5 as never }),
    'redisStore.prefix',
  ],
  ['postgresStore', () => new PostgresStore({ schema: 'a b' }), 'postgresStore.schema'],
  [
    'redisRateLimiter',
    () => new RedisRateLimiter({ redis, name: 'n', rate: -1, burst: 1 } as never),
    'redisRateLimiter.rate',
  ],
  [
    'redisRetryBudget',
    () => new RedisRetryBudget({ redis, name: 'n', ratio: -1 } as never),
    'redisRetryBudget.ratio',
  ],
  [
    'redisCircuitBreaker',
    () => new RedisCircuitBreaker({ redis, name: 'n', probeLockMs: -1 } as never),
    'redisCircuitBreaker.probeLockMs',
  ],
  [
    'sharedRetryBudget',
    () => new SharedRetryBudget({ redis, name: 'n', syncEveryMs: -1 } as never),
    'sharedRetryBudget.syncEveryMs',
  ],
];

describe('ConfigError names the option the dotted way, from the factory', () => {
  it.each(BAD_VALUES)('%s', async (_factory, make, option) => {
    const error = await configErrorOf(make);
    expect(error.option).toBe(option);
    expect(error.message).toContain(`Invalid option ${option}:`);
  });

  it('an unknown key says "unknown option" and suggests the nearest name, dotted', async () => {
    const error = await configErrorOf(() => retry({ maxAtempts: 3 } as never));
    expect(error.option).toBe('retry.maxAtempts');
    expect(error.message).toMatch(
      /^Unknown option retry\.maxAtempts: 3 \(did you mean retry\.maxAttempts\?/,
    );
    const worker = await configErrorOf(
      () => new Worker(queue, () => undefined, { leseMs: 1 } as never),
    );
    expect(worker.message).toContain('did you mean worker.leaseMs?');
    const redisStore = await configErrorOf(
      () => new RedisStore({ url: 'redis://x', prefx: 'a' } as never),
    );
    expect(redisStore.option).toBe('redisStore.prefx');
    expect(redisStore.message).toContain('did you mean redisStore.prefix?');
  });
});
