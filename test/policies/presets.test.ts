import { describe, expect, it } from 'vitest';
import { ConfigError, fromPreset, presets, RetriesExhaustedError, retry, retryBudget, timeout } from '../../src/index.js';
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
    expect(production.retry.backoff!.maxDelayMs).toBeGreaterThan(development.retry.backoff!.maxDelayMs);
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
    expect(first).toHaveLength(3);
    expect(first[2]!).toBeLessThanOrEqual(20);
    expect(await waits()).toEqual(first);
  });

  it('development is verbose: retries, give-ups and timeouts are logged with the operation', async () => {
    const clock = new VirtualClock();
    const lines: string[] = [];
    const { pipeline } = fromPreset('development', { clock, log: (line) => lines.push(line) });
    const call = pipeline.execute((ctx) => clock.sleep(60_000, ctx.signal), { operation: 'load_profile' }).catch((e: unknown) => e);
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
