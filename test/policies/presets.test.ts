import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  fromPreset,
  presets,
  RetriesExhaustedError,
  retry,
  retryBudget,
  timeout,
} from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { httpError, networkError } from './helpers.js';

describe('presets', () => {
  it('every preset is a valid set of options', () => {
    for (const preset of Object.values(presets)) {
      expect(() => retry(preset.retry)).not.toThrow();
      expect(() => retryBudget(preset.retryBudget)).not.toThrow();
      expect(() => timeout(preset.timeout)).not.toThrow();
    }
    expect(Object.isFrozen(presets.production.retry)).toBe(true);
  });

  it('production is conservative: more attempts, longer caps than development', () => {
    const { development, production } = presets;
    expect(production.retry.maxAttempts!).toBeGreaterThan(development.retry.maxAttempts!);
    expect(production.retry.backoff!.maxDelayMs).toBeGreaterThan(
      development.retry.backoff!.maxDelayMs,
    );
    expect(production.timeout.timeoutMs).toBeGreaterThan(development.timeout.timeoutMs);
    expect(production.retryBudget.ratio!).toBeLessThanOrEqual(development.retryBudget.ratio!);
  });

  it('test: tiny delays without jitter, the same on every run, pauses included', async () => {
    const waits = async () => {
      const clock = new VirtualClock();
      const { pipeline } = fromPreset('test', { clock });
      const at: number[] = [];
      const call = pipeline
        .execute(() => {
          at.push(clock.now());
          throw at.length === 1 ? httpError(429) : networkError();
        })
        .catch((e: unknown) => e);
      await clock.runAll();
      expect(await call).toBeInstanceOf(RetriesExhaustedError);
      return at;
    };
    const first = await waits();
    // 3 attempts: the 429 pauses 10 ms, the network error retries after 20 ms (10 ms × 2, no jitter).
    expect(first).toEqual([0, 10, 30]);
    expect(await waits()).toEqual(first);
  });

  it('match the archive downloader: development 3 / 0.5 s / 10 s, production 5 / 2 s / 300 s + breaker 5 / 120 s, test 3 / 0.01 s / 0.1 s', () => {
    const { development, production, test } = presets;
    expect(development.retry.maxAttempts).toBe(3);
    expect(development.retry.backoff).toMatchObject({
      initialMs: 500,
      maxDelayMs: 10_000,
      jitter: 'full',
    });
    expect(production.retry.maxAttempts).toBe(5);
    expect(production.retry.backoff).toMatchObject({
      initialMs: 2_000,
      maxDelayMs: 300_000,
      jitter: 'full',
    });
    expect(production.breaker).toEqual({
      trigger: { kind: 'consecutive', failures: 5 },
      halfOpenAfter: 120_000,
    });
    expect(test.retry.maxAttempts).toBe(3);
    expect(test.retry.backoff).toMatchObject({ initialMs: 10, maxDelayMs: 100, jitter: 'none' });
  });

  it('production: the breaker opens after 5 failed calls and lets a probe through after 120 s', async () => {
    const clock = new VirtualClock();
    const { breaker, pipeline } = fromPreset('production', { clock });
    expect(pipeline.describe()).toContain('circuitBreaker');
    for (let i = 0; i < 5; i++) {
      await breaker!.execute(() => Promise.reject(networkError())).catch(() => undefined);
    }
    expect(breaker!.state).toBe('open');
    await clock.advance(119_999);
    await expect(breaker!.execute(() => 'probe')).rejects.toMatchObject({
      name: 'BrokenCircuitError',
    });
    await clock.advance(1);
    await expect(breaker!.execute(() => 'probe')).resolves.toBe('probe');
  });

  it('development is verbose: retries, give-ups and timeouts are logged with the operation', async () => {
    const clock = new VirtualClock();
    const lines: string[] = [];
    const { pipeline } = fromPreset('development', { clock, log: (line) => lines.push(line) });
    const call = pipeline
      .execute((ctx) => clock.sleep(60_000, ctx.signal), { operation: 'load_profile' })
      .catch((e: unknown) => e);
    await clock.runAll();
    await call;
    expect(lines.some((l) => l.startsWith('faultline timeout [load_profile]'))).toBe(true);
    expect(lines.some((l) => l.startsWith('faultline retry [load_profile]'))).toBe(true);
    expect(lines.some((l) => l.startsWith('faultline gave up [load_profile]'))).toBe(true);
    const quiet: string[] = [];
    fromPreset('production', { log: (line) => quiet.push(line) });
    expect(quiet).toEqual([]);
  });

  it('rejects unknown presets and options', () => {
    expect(() => fromPreset('staging' as never)).toThrow(ConfigError);
    expect(() => fromPreset('test', { clock: 5 } as never)).toThrow(ConfigError);
    expect(() => fromPreset('test', { logger: console.log } as never)).toThrow(ConfigError);
  });
});
