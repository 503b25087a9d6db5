import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/faults/classify.js';
import { BrokenCircuitError, ConfigError } from '../../src/faults/errors.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { chaos, ChaosError, type ChaosHttpError, VirtualClock } from '../../src/testing/index.js';

async function settle(promise: Promise<unknown>): Promise<unknown> {
  try {
    return await promise;
  } catch (error) {
    return error;
  }
}

async function run(policy: ReturnType<typeof chaos>, calls: number): Promise<unknown[]> {
  const outcomes: unknown[] = [];
  for (let i = 0; i < calls; i++) outcomes.push(await settle(policy.execute(() => 'real')));
  return outcomes;
}

describe('chaos policy', () => {
  it('injects errors at the rate asked, reproducibly from a seed', async () => {
    const first = await run(chaos({ errorRate: 0.3, seed: 7 }), 2_000);
    const again = await run(chaos({ errorRate: 0.3, seed: 7 }), 2_000);
    const other = await run(chaos({ errorRate: 0.3, seed: 8 }), 2_000);
    const pattern = (outcomes: unknown[]) =>
      outcomes.map((o) => (o === 'real' ? '.' : 'x')).join('');
    expect(pattern(again)).toBe(pattern(first));
    expect(pattern(other)).not.toBe(pattern(first));
    const injected = first.filter((o) => o instanceof ChaosError).length;
    expect(injected).toBeGreaterThan(2_000 * 0.25);
    expect(injected).toBeLessThan(2_000 * 0.35);
    expect(classify(first.find((o) => o instanceof ChaosError)).category).toBe('network');
  });

  it('injects HTTP statuses that classify like real answers, with Retry-After on 429/503', async () => {
    const policy = chaos({ statusRate: 1, statuses: [503, 404], retryAfterSeconds: 2, seed: 3 });
    const outcomes = await run(policy, 200);
    const statuses = new Set(outcomes.map((o) => (o as ChaosHttpError).status));
    expect(statuses).toEqual(new Set([503, 404]));
    const unavailable = classify(outcomes.find((o) => (o as ChaosHttpError).status === 503));
    expect(unavailable).toMatchObject({
      category: 'unavailable',
      status: 503,
      retryAfterMs: 2_000,
    });
    const missing = classify(outcomes.find((o) => (o as ChaosHttpError).status === 404));
    expect(missing).toMatchObject({ category: 'permanent', status: 404 });
    expect(missing.retryAfterMs).toBeUndefined();
    const stats = policy.stats();
    expect(stats.injectedStatuses).toBe(200);
    expect(
      (stats.failuresByCategory.unavailable ?? 0) + (stats.failuresByCategory.permanent ?? 0),
    ).toBe(200);
  });

  it('throws the error you give, or makes one per call', async () => {
    const fixed = new Error('disk full');
    await expect(chaos({ errorRate: 1, error: fixed }).execute(() => 1)).rejects.toBe(fixed);
    const made = await settle(
      chaos({
        errorRate: 1,
        error: ({ attempt }: { attempt: number }) => new Error(`attempt ${attempt}`),
      }).execute(() => 1),
    );
    expect((made as Error).message).toBe('attempt 1');
  });

  it('adds latency on the clock, abortable through the call signal', async () => {
    const clock = new VirtualClock();
    const policy = chaos({ clock, latencyRate: 1, latencyMs: 500 });
    const seen: unknown[] = [];
    policy.events.on('injected', (e) => seen.push(e));
    let finishedAt = -1;
    const call = policy.execute(() => (finishedAt = clock.now()), { operation: 'fetch' });
    await clock.advance(499);
    expect(finishedAt).toBe(-1);
    await clock.advance(1);
    await call;
    expect(finishedAt).toBe(500);
    expect(seen).toEqual([{ kind: 'latency', latencyMs: 500, operation: { name: 'fetch' } }]);

    const controller = new AbortController();
    const aborted = policy.execute(() => 'never', { signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(clock.pendingTimers).toBe(0);
  });

  it('fast-check: injected latency stays within [min, max] for any seed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.integer({ min: 0, max: 1_000 }),
        fc.integer({ min: 0, max: 1_000 }),
        async (seed, a, b) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const clock = new VirtualClock();
          const policy = chaos({ clock, seed, latencyRate: 1, latencyMs: [min, max] });
          const latencies: number[] = [];
          policy.events.on('injected', (e) => latencies.push(e.latencyMs!));
          for (let i = 0; i < 5; i++) {
            const call = policy.execute(() => clock.now());
            await clock.runAll();
            await call;
          }
          expect(latencies).toHaveLength(5);
          for (const ms of latencies) {
            expect(ms).toBeGreaterThanOrEqual(min);
            expect(ms).toBeLessThanOrEqual(max);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('can be switched off at runtime', async () => {
    const policy = chaos({ errorRate: 1 });
    policy.enabled = false;
    await expect(policy.execute(() => 'through')).resolves.toBe('through');
    expect(policy.stats()).toMatchObject({ executions: 1, successes: 1, injectedErrors: 0 });
  });

  it('proves a breaker opens under injected 503s', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({
      clock,
      trigger: { kind: 'countWindow', size: 20, failureRate: 0.5, minimumThroughput: 20 },
    });
    const upstream = chaos({ statusRate: 0.8, statuses: [503], seed: 11 });
    const outcomes: unknown[] = [];
    for (let i = 0; i < 40; i++)
      outcomes.push(await settle(breaker.execute(() => upstream.execute(() => 'ok'))));
    expect(breaker.state).toBe('open');
    expect(outcomes.filter((o) => o instanceof BrokenCircuitError).length).toBe(20);
  });

  it.each([
    [{ errorRate: 1.5 }, /errorRate: 1.5/],
    [{ errorRate: 0.6, statusRate: 0.6 }, /statusRate: 0.6/],
    [{ statuses: [200] }, /statuses\[0\]: 200/],
    [{ statuses: [] }, /statuses: \[\]/],
    [{ latencyMs: [10, 5] }, /latencyMs\[1\]: 5/],
    [{ latencyMs: -1 }, /latencyMs: -1/],
    [{ seed: 1, random: Math.random }, /seed/],
    [{ errorrate: 0.1 }, /Unknown option chaos\.errorrate: 0\.1 \(did you mean chaos\.errorRate\?/],
  ])('%j is refused with a ConfigError', (options, message) => {
    expect(() => chaos(options as never)).toThrow(ConfigError);
    expect(() => chaos(options as never)).toThrow(message);
  });
});
