/**
 * FAULTLINE_RETRY_* configure the plan the durable worker follows, not only retry(): a job that
 * keeps failing is attempted FAULTLINE_RETRY_MAX_ATTEMPTS times on the configured backoff.
 */
import { describe, expect, it } from 'vitest';
import { fromEnv } from '../../src/config/env.js';
import { Queue } from '../../src/durable/queue.js';
import { Worker } from '../../src/durable/worker.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const env = {
  FAULTLINE_RETRY_MAX_ATTEMPTS: '3',
  FAULTLINE_RETRY_BASE_DELAY_MS: '1000',
  FAULTLINE_RETRY_MAX_DELAY_MS: '16000',
  FAULTLINE_RETRY_JITTER: 'none',
  FAULTLINE_RETRY_MAX_RETRY_AFTER_MS: '60000',
};

describe('fromEnv → the worker’s plan', () => {
  it('the plan carries the retry variables for every retried category, and the Retry-After limit for pauses', () => {
    const config = fromEnv(env);
    for (const category of ['network', 'timeout', 'unavailable', 'conflict'] as const) {
      expect(config.plan.rule(category)).toMatchObject({ action: 'retry', maxAttempts: 3 });
      expect(config.plan.rule(category).backoff.delay(2)).toBe(2_000);
    }
    expect(config.plan.rule('rate_limit')).toMatchObject({ action: 'pause', maxWaitMs: 60_000 });
    expect(config.worker.plan).toBe(config.plan);
    expect(config.retry.plan).toBe(config.plan);
    // Defaults: 5 attempts, as before.
    expect(fromEnv({}).worker.plan.rule('network').maxAttempts).toBe(5);
  });

  it('a worker built from config.worker attempts a failing job 3 times, waiting 1 s then 2 s, then dead-letters it', async () => {
    const clock = new VirtualClock();
    const store = new MemoryStore();
    const queue = new Queue<{ n: number }>(store, 'env-plan', { clock });
    const config = fromEnv(env);
    const attemptsAt: number[] = [];
    const worker = new Worker(
      queue,
      () => {
        attemptsAt.push(clock.now());
        throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
      },
      { ...config.worker, clock, pollMs: 10 },
    );
    let dead = false;
    worker.events.on('giveUp', () => (dead = true));
    await queue.enqueue({ n: 1 });
    worker.start();
    for (let t = 0; t < 60_000 && !dead; t += 10) await clock.advance(10);
    expect(dead).toBe(true);
    expect(attemptsAt).toHaveLength(3);
    const waits = attemptsAt.slice(1).map((at, i) => at - attemptsAt[i]!);
    expect(waits[0]).toBeGreaterThanOrEqual(1_000);
    expect(waits[0]).toBeLessThan(1_100);
    expect(waits[1]).toBeGreaterThanOrEqual(2_000);
    expect(waits[1]).toBeLessThan(2_100);
    const stopping = worker.stop({ deadlineMs: 100 });
    for (let i = 0; i < 100; i++) await clock.advance(10);
    await stopping;
  });
});
