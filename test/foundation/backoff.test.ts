import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/index.js';
import {
  constantBackoff,
  exponentialBackoff,
  isBackoff,
  linearBackoff,
  seededRandom,
} from '../../src/recovery/index.js';

const top = () => 0.999_999_999;
const bottom = () => 0;
const middle = () => 0.5;

describe('backoff schedules', () => {
  it('exponential defaults: 1 s base, ×2, 30 s cap, full jitter', () => {
    const b = exponentialBackoff();
    expect(b.kind).toBe('exponential');
    expect(b.maxDelayMs).toBe(30_000);
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => b.bounds(n).max)).toEqual([
      1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
    expect(b.bounds(3).min).toBe(0);
    expect(b.delay(3, 0, bottom)).toBe(0);
    expect(b.delay(3, 0, middle)).toBe(2000);
    expect(b.delay(3, 0, top)).toBeCloseTo(4000, 3);
  });

  it('no jitter gives the exact schedule 1, 2, 4, 8, 16 s', () => {
    const b = exponentialBackoff({
      initialMs: 1000,
      factor: 2,
      maxDelayMs: 60_000,
      jitter: 'none',
    });
    expect([1, 2, 3, 4, 5].map((n) => b.delay(n))).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('equal jitter stays in the upper half', () => {
    const b = exponentialBackoff({ jitter: 'equal' });
    expect(b.bounds(2)).toEqual({ min: 1000, max: 2000 });
    expect(b.delay(2, 0, bottom)).toBe(1000);
    expect(b.delay(2, 0, middle)).toBe(1500);
  });

  it('decorrelated jitter grows from the previous delay, within [initial, cap]', () => {
    const b = exponentialBackoff({ initialMs: 100, maxDelayMs: 10_000, jitter: 'decorrelated' });
    expect(b.delay(1, 0, top)).toBeCloseTo(300, 3);
    expect(b.delay(2, 300, top)).toBeCloseTo(900, 3);
    expect(b.delay(9, 9000, top)).toBeCloseTo(10_000, 3);
    expect(b.delay(9, 9000, bottom)).toBe(100);
    expect(b.bounds(5)).toEqual({ min: 100, max: 10_000 });
  });

  it('constant and linear', () => {
    expect(constantBackoff(250).delay(9)).toBe(250);
    expect(constantBackoff({ delayMs: 250, jitter: 'full' }).delay(1, 0, middle)).toBe(125);
    const linear = linearBackoff({ initialMs: 100, stepMs: 50, maxDelayMs: 300 });
    expect([1, 2, 3, 4, 5, 6].map((n) => linear.delay(n))).toEqual([100, 150, 200, 250, 300, 300]);
    expect(linearBackoff({ initialMs: 100 }).delay(3)).toBe(300);
  });

  it('attempts below 1 or fractional are read as the nearest valid attempt, never NaN', () => {
    const b = exponentialBackoff({ jitter: 'none' });
    expect(b.delay(0)).toBe(1000);
    expect(b.delay(-5)).toBe(1000);
    expect(b.delay(Number.NaN)).toBe(1000);
    expect(b.delay(2.7)).toBe(2000);
    expect(b.delay(1e9)).toBe(30_000);
    expect(b.delay(Number.POSITIVE_INFINITY)).toBe(30_000);
  });

  it('scaled() multiplies every delay and the cap', () => {
    const b = exponentialBackoff({ jitter: 'none' }).scaled(3);
    expect(b.delay(1)).toBe(3000);
    expect(b.maxDelayMs).toBe(90_000);
    expect(b.delay(20)).toBe(90_000);
    expect(exponentialBackoff({ jitter: 'none' }).scaled(0.5).delay(2)).toBe(1000);
    expect(() => exponentialBackoff().scaled(-1)).toThrow(ConfigError);
  });

  it('seededRandom is reproducible and in [0, 1)', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    for (const x of xs) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
    }
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });

  it('isBackoff recognises schedules only', () => {
    expect(isBackoff(exponentialBackoff())).toBe(true);
    expect(isBackoff({ delay: () => 1 })).toBe(false);
  });
});

describe('bad backoff options throw ConfigError naming the option and the value', () => {
  const cases: [string, () => unknown, string, unknown][] = [
    [
      'negative initialMs',
      () => exponentialBackoff({ initialMs: -1 }),
      'exponentialBackoff.initialMs',
      -1,
    ],
    [
      'NaN initialMs',
      () => exponentialBackoff({ initialMs: Number.NaN }),
      'exponentialBackoff.initialMs',
      Number.NaN,
    ],
    ['factor below 1', () => exponentialBackoff({ factor: 0.5 }), 'exponentialBackoff.factor', 0.5],
    [
      'negative maxDelayMs',
      () => exponentialBackoff({ maxDelayMs: -10 }),
      'exponentialBackoff.maxDelayMs',
      -10,
    ],
    [
      'cap below the initial delay',
      () => exponentialBackoff({ initialMs: 5000, maxDelayMs: 1000 }),
      'exponentialBackoff.maxDelayMs',
      1000,
    ],
    [
      'unknown jitter',
      () => exponentialBackoff({ jitter: 'some' as never }),
      'exponentialBackoff.jitter',
      'some',
    ],
    [
      'a typo in an option name',
      () => exponentialBackoff({ maxDelay: 5 } as never),
      'exponentialBackoff.maxDelay',
      5,
    ],
    [
      'options that are not an object',
      () => exponentialBackoff(null as never),
      'exponentialBackoff',
      null,
    ],
    [
      'NaN constant delay',
      () => constantBackoff(Number.NaN),
      'constantBackoff.delayMs',
      Number.NaN,
    ],
    [
      'negative constant delay',
      () => constantBackoff({ delayMs: -1 }),
      'constantBackoff.delayMs',
      -1,
    ],
    [
      'negative linear step',
      () => linearBackoff({ initialMs: 10, stepMs: -1 }),
      'linearBackoff.stepMs',
      -1,
    ],
    [
      'Infinity linear initial',
      () => linearBackoff({ initialMs: Number.POSITIVE_INFINITY }),
      'linearBackoff.initialMs',
      Number.POSITIVE_INFINITY,
    ],
  ];

  it.each(cases)('%s', (_label, build, option, value) => {
    let caught: unknown;
    try {
      build();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).option).toBe(option);
    expect(Object.is((caught as ConfigError).value, value)).toBe(true);
    expect((caught as Error).message).toContain(option);
    expect((caught as Error).message).toContain(String(value));
  });
});
