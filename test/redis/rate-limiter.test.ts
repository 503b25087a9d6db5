import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ConfigError, RateLimitedError } from '../../src/faults/errors.js';
import { RedisRateLimiter } from '../../src/stores/redis/rate-limiter.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { useSharedRedis } from './suite.js';

describe('RedisRateLimiter (distributed token bucket)', () => {
  let client: Redis;
  const prefix = useSharedRedis('rl', (connected) => {
    client = connected;
  });

  it('validates its options', () => {
    expect(() => new RedisRateLimiter({ redis: client, name: 'x', rate: 0 })).toThrow(ConfigError);
    expect(() => new RedisRateLimiter({ redis: client, name: '', rate: 1 })).toThrow(ConfigError);
    expect(() => new RedisRateLimiter({ redis: {} as Redis, name: 'x', rate: 1 })).toThrow(
      ConfigError,
    );
    expect(() => new RedisRateLimiter({ redis: client, name: 'x', rate: 1, burst: -1 })).toThrow(
      ConfigError,
    );
    expect(
      () => new RedisRateLimiter({ redis: client, name: 'x', rate: 1, time: 'local' as 'server' }),
    ).toThrow(ConfigError);
  });

  it('never admits more than burst + rate x t across many limiter instances (one bucket)', async () => {
    const clock = new VirtualClock({ wallStart: Date.UTC(2030, 0, 1) });
    // Ten "processes" sharing one bucket: 5 tokens/s, burst 10.
    const limiters = Array.from(
      { length: 10 },
      () =>
        new RedisRateLimiter({
          redis: client,
          prefix,
          name: 'shared',
          rate: 5,
          burst: 10,
          time: 'caller',
          clock,
        }),
    );
    let admitted = 0;
    for (let step = 0; step <= 20; step++) {
      const results = await Promise.all(
        limiters.flatMap((l) => [l.tryTake(), l.tryTake(), l.tryTake()]),
      );
      admitted += results.filter((r) => r.granted).length;
      const elapsedMs = step * 250;
      expect(admitted).toBeLessThanOrEqual(10 + Math.floor((5 * elapsedMs) / 1000));
      await clock.advance(250);
    }
    // After 5 s: burst 10 + 25 refilled, and every refill was used (callers always wanted more).
    expect(admitted).toBe(35);
  });

  it('rejects with RateLimitedError and retryAfterMs, or waits up to maxWaitMs on the clock', async () => {
    const clock = new VirtualClock({ wallStart: Date.UTC(2031, 0, 1) });
    const rejecting = new RedisRateLimiter({
      redis: client,
      prefix,
      name: 'reject',
      rate: 2,
      burst: 1,
      time: 'caller',
      clock,
    });
    expect(await rejecting.execute(() => 'first')).toBe('first');
    const error = await rejecting.execute(() => 'second').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect((error as RateLimitedError).retryAfterMs).toBe(500);
    expect(rejecting.stats().rejections).toBe(1);

    const waiting = new RedisRateLimiter({
      redis: client,
      prefix,
      name: 'wait',
      rate: 2,
      burst: 1,
      maxWaitMs: 1_000,
      time: 'caller',
      clock,
    });
    const waits: number[] = [];
    waiting.events.on('acquired', (e) => waits.push(e.waitedMs));
    await waiting.execute(() => 1);
    const second = waiting.execute(() => 2);
    // The wait is on the clock: let Redis answer, then move virtual time.
    for (let i = 0; i < 100_000 && clock.pendingTimers === 0; i++)
      await new Promise<void>((r) => setImmediate(r));
    await clock.advance(500);
    expect(await second).toBe(2);
    expect(waits).toEqual([0, 500]);
  });

  it('refuses a bad call at the door, before any round trip to Redis', async () => {
    const limiter = new RedisRateLimiter({
      redis: client,
      prefix,
      name: 'door',
      rate: 1,
      burst: 1,
    });
    await expect(limiter.execute(42 as never)).rejects.toBeInstanceOf(ConfigError);
    const reason = new Error('the caller gave up');
    let calls = 0;
    await expect(
      limiter.execute(async () => ++calls, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason);
    expect(calls).toBe(0);
    expect(limiter.stats().executions).toBe(0);
    // The bucket's one token is still there: the refused calls took nothing.
    expect((await limiter.tryTake()).granted).toBe(true);
  });

  it('uses the Redis server clock by default (one clock for every machine)', async () => {
    const limiter = new RedisRateLimiter({
      redis: client,
      prefix,
      name: 'server-time',
      rate: 1,
      burst: 3,
    });
    const results = await Promise.all([1, 2, 3, 4].map(() => limiter.tryTake()));
    expect(results.filter((r) => r.granted)).toHaveLength(3);
    const refused = results.find((r) => !r.granted)!;
    expect(refused.retryAfterMs).toBeGreaterThan(0);
    expect(refused.retryAfterMs).toBeLessThanOrEqual(1000);
  });

  it('fails closed by default when Redis is unreachable, and open when told to', async () => {
    const { Redis: RedisClient } = await import('ioredis');
    const dead = new RedisClient({
      port: 1,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const closed = new RedisRateLimiter({ redis: dead, prefix, name: 'dead', rate: 1 });
    await expect(closed.execute(() => 'ran')).rejects.toThrow();
    const open = new RedisRateLimiter({
      redis: dead,
      prefix,
      name: 'dead',
      rate: 1,
      whenUnreachable: 'allow',
    });
    const seen: boolean[] = [];
    open.events.on('unreachable', (e) => seen.push(e.allowed));
    expect(await open.execute(() => 'ran')).toBe('ran');
    expect(seen).toEqual([true]);
    dead.disconnect();
  });
});
