import { describe, expect, it } from 'vitest';
import * as check from '../../src/validate/validate.js';
import { ConfigError } from '../../src/faults/index.js';

function rejection(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('option checks accept what they promise', () => {
  it.each([
    ['nonNegativeNumber', () => check.nonNegativeNumber('o', 0), 0],
    ['nonNegativeNumber', () => check.nonNegativeNumber('o', 2.5), 2.5],
    ['positiveNumber', () => check.positiveNumber('o', 0.1), 0.1],
    [
      'limit (Infinity)',
      () => check.limit('o', Number.POSITIVE_INFINITY),
      Number.POSITIVE_INFINITY,
    ],
    ['nonNegativeInteger', () => check.nonNegativeInteger('o', 0), 0],
    ['positiveInteger', () => check.positiveInteger('o', 3), 3],
    [
      'countLimit (Infinity)',
      () => check.countLimit('o', Number.POSITIVE_INFINITY),
      Number.POSITIVE_INFINITY,
    ],
    ['ratio', () => check.ratio('o', 1), 1],
    ['oneOf', () => check.oneOf('o', 'b', ['a', 'b']), 'b'],
    ['category', () => check.category('o', 'rate_limit'), 'rate_limit'],
  ] as const)('%s', (_name, run, expected) => {
    expect(run()).toBe(expected);
  });

  it('fn, plainObject and knownKeys', () => {
    const f = () => 1;
    expect(check.fn('o', f)).toBe(f);
    const o = { a: 1 };
    expect(check.plainObject('o', o)).toBe(o);
    expect(() => check.knownKeys('o', o, ['a', 'b'])).not.toThrow();
  });
});

describe('option checks reject bad values with a ConfigError naming the option and the value', () => {
  it.each([
    ['nonNegativeNumber', () => check.nonNegativeNumber('delayMs', -1), 'delayMs', -1],
    [
      'nonNegativeNumber NaN',
      () => check.nonNegativeNumber('delayMs', Number.NaN),
      'delayMs',
      Number.NaN,
    ],
    [
      'nonNegativeNumber Infinity',
      () => check.nonNegativeNumber('delayMs', Number.POSITIVE_INFINITY),
      'delayMs',
      Number.POSITIVE_INFINITY,
    ],
    ['nonNegativeNumber string', () => check.nonNegativeNumber('delayMs', '5'), 'delayMs', '5'],
    ['positiveNumber 0', () => check.positiveNumber('rate', 0), 'rate', 0],
    [
      'limit -Infinity',
      () => check.limit('maxWaitMs', Number.NEGATIVE_INFINITY),
      'maxWaitMs',
      Number.NEGATIVE_INFINITY,
    ],
    ['nonNegativeInteger fraction', () => check.nonNegativeInteger('n', 1.5), 'n', 1.5],
    ['positiveInteger 0', () => check.positiveInteger('maxAttempts', 0), 'maxAttempts', 0],
    [
      'positiveInteger unsafe',
      () => check.positiveInteger('maxAttempts', 2 ** 60),
      'maxAttempts',
      2 ** 60,
    ],
    ['countLimit fraction', () => check.countLimit('maxAttempts', 2.5), 'maxAttempts', 2.5],
    ['ratio above 1', () => check.ratio('threshold', 1.1), 'threshold', 1.1],
    ['ratio NaN', () => check.ratio('threshold', Number.NaN), 'threshold', Number.NaN],
    ['oneOf', () => check.oneOf('jitter', 'some', ['none', 'full']), 'jitter', 'some'],
    ['category', () => check.category('category', 'quota'), 'category', 'quota'],
    ['fn', () => check.fn('random', 3), 'random', 3],
    ['plainObject null', () => check.plainObject('options', null), 'options', null],
    ['plainObject array', () => check.plainObject('options', []), 'options', []],
    [
      'knownKeys typo',
      () => check.knownKeys('retry', { maxAtempts: 3 }, ['maxAttempts']),
      'retry.maxAtempts',
      3,
    ],
  ] as const)('%s', (_name, run, option, value) => {
    const error = rejection(run);
    expect(error.option).toBe(option);
    expect(error.value).toStrictEqual(value);
    expect(error.message).toContain(` option ${option}:`);
    expect(error.category).toBe('validation');
  });

  it('the message shows the value readably', () => {
    expect(rejection(() => check.oneOf('jitter', 'some', ['none'])).message).toBe(
      'Invalid option jitter: "some" (expected one of "none")',
    );
    expect(rejection(() => check.fn('random', { a: 1 })).message).toContain('{"a":1}');
    expect(rejection(() => check.fn('random', 10n)).message).toContain('10n');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(rejection(() => check.fn('random', circular)).message).toContain('[object Object]');
  });
});

describe('an unknown option', () => {
  it('is called an unknown option, named from the factory, with the nearest known name', () => {
    const error = rejection(() =>
      check.knownKeys('retry', { maxAtempts: 3 }, ['maxAttempts', 'backoff']),
    );
    expect(error.option).toBe('retry.maxAtempts');
    expect(error.message).toBe(
      'Unknown option retry.maxAtempts: 3 (did you mean retry.maxAttempts? known: maxAttempts, backoff)',
    );
  });

  it('lists the known names when none is near', () => {
    const error = rejection(() =>
      check.knownKeys('bulkhead', { size: 3 }, ['maxConcurrent', 'maxQueued']),
    );
    expect(error.message).toBe('Unknown option bulkhead.size: 3 (known: maxConcurrent, maxQueued)');
  });
});
