import { describe, expect, it } from 'vitest';
import { fromEnv } from '../../src/config/env.js';
import { Queue, Worker } from '../../src/durable/index.js';
import { ConfigError } from '../../src/faults/errors.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/** Runs `make` and returns the ConfigError it threw; fails if it threw anything else or nothing. */
function configError(make: () => unknown): ConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('fromEnv rejects what is not an environment', () => {
  it.each([
    ['null', null],
    ['a string', 'x'],
    ['an array', ['FAULTLINE_QUEUE=q']],
    ['a number', 5],
  ])('%s is a ConfigError naming fromEnv.env', (_label, env) => {
    expect(configError(() => fromEnv(env as never)).option).toBe('fromEnv.env');
  });

  it('a value that is not a string is reported, not a raw TypeError', () => {
    const error = configError(() => fromEnv({ X: 5, FAULTLINE_RETRY_MAX_ATTEMPTS: 3 } as never));
    expect(error.message).toContain('X=');
    expect(error.message).toContain('FAULTLINE_RETRY_MAX_ATTEMPTS=');
    expect(error.message).toContain('expected a string');
  });

  it('an unknown option and a non-boolean strict are ConfigErrors', () => {
    expect(configError(() => fromEnv({}, { bogus: 1 } as never)).option).toBe('fromEnv.bogus');
    expect(configError(() => fromEnv({}, { strict: 'no' } as never)).option).toBe('fromEnv.strict');
    expect(configError(() => fromEnv({}, null as never)).option).toBe('fromEnv');
  });

  it('does not echo a 1 MB value whole: it is cut with a marker', () => {
    const huge = 'j'.repeat(1_000_000);
    const error = configError(() => fromEnv({ FAULTLINE_RETRY_JITTER: huge }));
    expect(error.message.length).toBeLessThan(1_000);
    expect(error.message).toContain('more characters cut');
    expect(JSON.stringify(error).length).toBeLessThan(2_000);
  });

  it('still reads a proper environment', () => {
    expect(fromEnv({ FAULTLINE_QUEUE: 'mail', PATH: '/bin' }).queue).toBe('mail');
  });
});

describe('worker options', () => {
  const queue = () => new Queue(new MemoryStore(), 'q', { clock: new VirtualClock() });
  const handler = async () => {};

  it.each([0, 999, -1, Number.NaN, 2 ** 31, '60000'])(
    'pruneEveryMs %s is rejected naming worker.pruneEveryMs and the range',
    (value) => {
      const error = configError(
        () => new Worker(queue(), handler, { pruneEveryMs: value as number }),
      );
      expect(error.option).toBe('worker.pruneEveryMs');
      expect(error.message).toContain('from 1,000 to 2,147,483,647');
    },
  );

  it('accepts 1,000 ms and Infinity', () => {
    expect(() => new Worker(queue(), handler, { pruneEveryMs: 1_000 })).not.toThrow();
    expect(
      () => new Worker(queue(), handler, { pruneEveryMs: Number.POSITIVE_INFINITY }),
    ).not.toThrow();
  });

  it('keepAlive must be a boolean', () => {
    expect(
      configError(() => new Worker(queue(), handler, { keepAlive: 'x' as never })).option,
    ).toBe('worker.keepAlive');
    expect(() => new Worker(queue(), handler, { keepAlive: false })).not.toThrow();
  });

  it('a clock must be a Clock', () => {
    expect(configError(() => new Worker(queue(), handler, { clock: {} as never })).option).toBe(
      'worker.clock',
    );
  });
});

describe('HealthMonitor options', () => {
  it('rejects a clock that is not a Clock', () => {
    expect(configError(() => new HealthMonitor({ clock: {} as never })).option).toBe(
      'healthMonitor.clock',
    );
    expect(
      configError(() => new HealthMonitor({ clock: { now: () => 0 } as never })).message,
    ).toContain('wallTime is missing');
    expect(() => new HealthMonitor({ clock: new VirtualClock() })).not.toThrow();
  });
});

describe('Queue.getJob', () => {
  it('never returns a job of another queue', async () => {
    const store = new MemoryStore();
    const clock = new VirtualClock();
    const other = new Queue(store, 'other', { clock });
    const mine = new Queue(store, 'q1', { clock });
    const { id } = await other.enqueue({ n: 1 });
    expect((await other.getJob(id))?.queue).toBe('other');
    expect(await mine.getJob(id)).toBeUndefined();
  });
});

describe('payload checks', () => {
  it('a payload nested 100,000 deep gets the path-naming TypeError, not a RangeError', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const queue = new Queue(new MemoryStore(), 'q', { clock: new VirtualClock() });
    const error = await queue.enqueue(deep).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toMatch(
      /^payload\.a\.a\.a.*nested more than 1000 levels deep/,
    );
    expect((error as Error).message.length).toBeLessThan(400);
    const arrays: unknown[] = [];
    let cursor = arrays;
    for (let i = 0; i < 100_000; i++) {
      const next: unknown[] = [];
      cursor.push(next);
      cursor = next;
    }
    expect(await queue.enqueue(arrays).catch((e: unknown) => e)).toBeInstanceOf(TypeError);
  });

  it('a payload 999 levels deep is stored', async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 999; i++) deep = { a: deep };
    const queue = new Queue(new MemoryStore(), 'q', { clock: new VirtualClock() });
    await expect(queue.enqueue(deep)).resolves.toMatchObject({ created: true });
  });
});
