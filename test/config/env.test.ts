import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  ENV_VARIABLES,
  EnvConfigError,
  fromEnv,
  HealthMonitor,
  MemoryStore,
  Queue,
  parseStoreLocation,
  redactUrl,
  retry,
  Worker,
} from '../../src/index.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { VirtualClock } from '../../src/testing/index.js';

function catchEnvError(env: Record<string, string>): EnvConfigError {
  try {
    fromEnv(env);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvConfigError);
    return error as EnvConfigError;
  }
  throw new Error('fromEnv accepted a bad environment');
}

describe('fromEnv', () => {
  it('gives the documented defaults for an empty environment', () => {
    const config = fromEnv({});
    expect(config.retry.maxAttempts).toBe(5);
    expect(config.retry.backoff.maxDelayMs).toBe(30_000);
    expect(config.retry.backoff.bounds(1)).toEqual({ min: 0, max: 1000 });
    expect(config.retry.maxElapsedMs).toBe(Number.POSITIVE_INFINITY);
    expect(config.retry.maxRetryAfterMs).toBe(300_000);
    expect(config.breaker).toEqual({
      trigger: { kind: 'consecutive', failures: 5 },
      halfOpenAfter: 30_000,
      maxProbes: 1,
    });
    expect(config.health.failureThreshold).toBe(3);
    expect(config.health.stabilityThreshold).toBe(5);
    expect(config.health.intervalMs).toBe(10_000);
    expect([1, 2, 3, 6, 10].map((n) => config.health.failingBackoff.delay(n))).toEqual([
      10_000, 20_000, 40_000, 300_000, 300_000,
    ]);
    expect(config.worker).toMatchObject({ concurrency: 10, leaseMs: 4000 });
    expect(config.stop).toEqual({ deadlineMs: 10_000 });
    expect(config.store).toEqual({ kind: 'sqlite', path: './faultline.db' });
    expect(config.queue).toBe('default');
    expect(config.logLevel).toBe('info');
  });

  it('reads every variable', () => {
    const config = fromEnv({
      FAULTLINE_RETRY_MAX_ATTEMPTS: '7',
      FAULTLINE_RETRY_BASE_DELAY_MS: '200',
      FAULTLINE_RETRY_MAX_DELAY_MS: '5000',
      FAULTLINE_RETRY_JITTER: 'none',
      FAULTLINE_RETRY_MAX_ELAPSED_MS: '60000',
      FAULTLINE_RETRY_MAX_RETRY_AFTER_MS: '0',
      FAULTLINE_BREAKER_FAILURE_THRESHOLD: '3',
      FAULTLINE_BREAKER_OPEN_MS: '1500',
      FAULTLINE_BREAKER_HALF_OPEN_PROBES: '2',
      FAULTLINE_HEALTH_FAILURE_THRESHOLD: '4',
      FAULTLINE_HEALTH_STABILITY_THRESHOLD: '6',
      FAULTLINE_HEALTH_INTERVAL_MS: '2000',
      FAULTLINE_HEALTH_FAILING_BACKOFF_MS: '1000',
      FAULTLINE_HEALTH_FAILING_MAX_MS: '8000',
      FAULTLINE_WORKER_CONCURRENCY: '50',
      FAULTLINE_WORKER_LEASE_MS: '5000',
      FAULTLINE_WORKER_STOP_DEADLINE_MS: '0',
      FAULTLINE_STORE: 'redis://127.0.0.1:6379/2',
      FAULTLINE_QUEUE: 'crawl',
      FAULTLINE_LOG_LEVEL: 'debug',
    });
    expect(config.retry.maxAttempts).toBe(7);
    expect([1, 2, 3, 10].map((n) => config.retry.backoff.delay(n))).toEqual([200, 400, 800, 5000]);
    expect(config.retry.maxElapsedMs).toBe(60_000);
    expect(config.retry.maxRetryAfterMs).toBe(0);
    expect(config.breaker).toEqual({
      trigger: { kind: 'consecutive', failures: 3 },
      halfOpenAfter: 1500,
      maxProbes: 2,
    });
    expect(config.health.failureThreshold).toBe(4);
    expect(config.health.stabilityThreshold).toBe(6);
    expect(config.health.intervalMs).toBe(2000);
    expect(config.health.failingBackoff.delay(5)).toBe(8000);
    expect(config.worker).toMatchObject({ concurrency: 50, leaseMs: 5000 });
    expect(config.stop).toEqual({ deadlineMs: 0 });
    expect(config.store).toEqual({ kind: 'redis', url: 'redis://127.0.0.1:6379/2' });
    expect(config.queue).toBe('crawl');
    expect(config.logLevel).toBe('debug');
  });

  it('treats empty and blank values as unset and trims spaces', () => {
    const config = fromEnv({
      FAULTLINE_WORKER_CONCURRENCY: '',
      FAULTLINE_RETRY_MAX_ATTEMPTS: ' 3 ',
      FAULTLINE_QUEUE: '   ',
    });
    expect(config.worker.concurrency).toBe(10);
    expect(config.retry.maxAttempts).toBe(3);
    expect(config.queue).toBe('default');
  });

  it('reports every bad variable at once, one message each', () => {
    const error = catchEnvError({
      FAULTLINE_RETRY_MAX_ATTEMPTS: 'five',
      FAULTLINE_BREAKER_OPEN_MS: '-1',
      FAULTLINE_WORKER_CONCURRENCY: '0',
      FAULTLINE_WORKER_LEASE_MS: '1.5',
      FAULTLINE_RETRY_JITTER: 'lots',
      FAULTLINE_STORE: 'mysql://db',
      FAULTLINE_LOG_LEVEL: 'loud',
      FAULTLINE_HEALTH_INTERVAL_MS: '99999999999999999999',
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.category).toBe('validation');
    expect(error.problems.map((p) => p.variable).sort()).toEqual(
      [
        'FAULTLINE_RETRY_MAX_ATTEMPTS',
        'FAULTLINE_BREAKER_OPEN_MS',
        'FAULTLINE_WORKER_CONCURRENCY',
        'FAULTLINE_WORKER_LEASE_MS',
        'FAULTLINE_RETRY_JITTER',
        'FAULTLINE_STORE',
        'FAULTLINE_LOG_LEVEL',
        'FAULTLINE_HEALTH_INTERVAL_MS',
      ].sort(),
    );
    const byName = new Map(error.problems.map((p) => [p.variable, p]));
    expect(byName.get('FAULTLINE_RETRY_MAX_ATTEMPTS')?.message).toBe(
      'expected a whole number >= 1',
    );
    expect(byName.get('FAULTLINE_BREAKER_OPEN_MS')?.message).toBe(
      'expected a whole number >= 1 (milliseconds)',
    );
    expect(byName.get('FAULTLINE_RETRY_JITTER')?.message).toBe(
      'expected one of none, full, equal, decorrelated',
    );
    expect(byName.get('FAULTLINE_HEALTH_INTERVAL_MS')?.message).toMatch(/too large/);
    expect(error.message.split('\n')).toHaveLength(9);
    expect(error.message).toMatch(/^8 invalid FAULTLINE_\* environment variables:/);
    expect(error.message).toContain(
      'FAULTLINE_WORKER_LEASE_MS="1.5": expected a whole number >= 1 (milliseconds)',
    );
  });

  it('checks that a maximum is not below its base', () => {
    const error = catchEnvError({
      FAULTLINE_RETRY_BASE_DELAY_MS: '5000',
      FAULTLINE_RETRY_MAX_DELAY_MS: '100',
    });
    expect(error.problems).toEqual([
      {
        variable: 'FAULTLINE_RETRY_MAX_DELAY_MS',
        value: '100',
        message: 'must be >= FAULTLINE_RETRY_BASE_DELAY_MS (5000)',
      },
    ]);
  });

  it('rejects unknown FAULTLINE_* variables and suggests the near name; other variables are ignored', () => {
    const error = catchEnvError({
      FAULTLINE_RETRY_MAX_ATEMPTS: '3',
      FAULTLINE_NONSENSE: '1',
      PATH: '/bin',
    });
    expect(error.problems).toEqual([
      {
        variable: 'FAULTLINE_RETRY_MAX_ATEMPTS',
        value: '3',
        message: 'unknown variable; did you mean FAULTLINE_RETRY_MAX_ATTEMPTS?',
      },
      { variable: 'FAULTLINE_NONSENSE', value: '1', message: 'unknown variable' },
    ]);
    expect(fromEnv({ FAULTLINE_NONSENSE: '1' }, { strict: false }).retry.maxAttempts).toBe(5);
  });

  it('never echoes a password from the store URL', () => {
    const error = catchEnvError({
      FAULTLINE_STORE: 'redis://admin:s3cret@',
      FAULTLINE_WORKER_CONCURRENCY: 'x',
    });
    expect(error.message).not.toContain('s3cret');
    expect(error.problems.find((p) => p.variable === 'FAULTLINE_STORE')?.value).toBe(
      'redis://admin:***@',
    );
  });

  it('rejects any non-numeric count with a message naming the variable (property)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          ...ENV_VARIABLES.filter(
            (v) =>
              v.name.endsWith('_MS') ||
              v.name.endsWith('_ATTEMPTS') ||
              v.name.endsWith('_CONCURRENCY'),
          ),
        ),
        fc.string().filter((s) => s.trim() !== '' && !/^\d+$/.test(s.trim())),
        (variable, value) => {
          const error = catchEnvError({ [variable.name]: value });
          expect(error.problems).toHaveLength(1);
          expect(error.problems[0]?.variable).toBe(variable.name);
          expect(error.message).toContain(variable.name);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('store locations', () => {
  it.each([
    ['sqlite:./x.db', { kind: 'sqlite', path: './x.db' }],
    ['sqlite:///tmp/x.db', { kind: 'sqlite', path: '/tmp/x.db' }],
    ['data/jobs.sqlite', { kind: 'sqlite', path: 'data/jobs.sqlite' }],
    ['redis://127.0.0.1:6379', { kind: 'redis', url: 'redis://127.0.0.1:6379' }],
    ['rediss://u:p@example.com:6380/1', { kind: 'redis', url: 'rediss://u:p@example.com:6380/1' }],
    ['valkey://127.0.0.1', { kind: 'redis', url: 'redis://127.0.0.1' }],
    ['memory', { kind: 'memory' }],
  ])('%s', (text, expected) => {
    expect(parseStoreLocation(text)).toEqual(expected);
  });

  it.each(['sqlite:', 'mysql://x', 'redis://', 'jobs'])('rejects %s', (text) => {
    expect(parseStoreLocation(text)).toHaveProperty('problem');
  });

  it.each([
    ['redis://user:pw@host:1/0', 'redis://user:***@host:1/0'],
    ['redis://:pw@host', 'redis://***@host'],
    ['rediss://token@host', 'rediss://***@host'],
    ['redis://host:6379', 'redis://host:6379'],
    ['sqlite:./a@b.db', 'sqlite:./a@b.db'],
  ])('redacts %s', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
  });
});

describe('.env.example', () => {
  const text = readFileSync(fileURLToPath(new URL('../../.env.example', import.meta.url)), 'utf8');

  it('documents every variable with its default, and nothing else', () => {
    const documented = new Map<string, string>();
    for (const line of text.split('\n')) {
      const match = /^#?\s*(FAULTLINE_[A-Z_]+)=(.*)$/.exec(line);
      if (match) documented.set(match[1]!, match[2]!);
    }
    expect([...documented.keys()]).toEqual(ENV_VARIABLES.map((v) => v.name));
    for (const variable of ENV_VARIABLES)
      expect(documented.get(variable.name)).toBe(variable.default ?? '');
  });

  it('parses to the same options as an empty environment', () => {
    const env: Record<string, string> = {};
    for (const line of text.split('\n')) {
      const match = /^(FAULTLINE_[A-Z_]+)=(.*)$/.exec(line);
      if (match) env[match[1]!] = match[2]!;
    }
    const fromFile = fromEnv(env);
    const defaults = fromEnv({});
    expect({
      ...fromFile,
      plan: fromFile.plan.describe(),
      retry: { ...fromFile.retry, backoff: undefined, plan: undefined },
      worker: { ...fromFile.worker, plan: undefined },
      health: { ...fromFile.health, failingBackoff: undefined },
    }).toEqual({
      ...defaults,
      plan: defaults.plan.describe(),
      retry: { ...defaults.retry, backoff: undefined, plan: undefined },
      worker: { ...defaults.worker, plan: undefined },
      health: { ...defaults.health, failingBackoff: undefined },
    });
    expect(fromFile.retry.backoff.bounds(3)).toEqual(defaults.retry.backoff.bounds(3));
  });
});

describe('fromEnv options fit the constructors', () => {
  it('retry, circuit breaker, health monitor and worker accept them as they are', async () => {
    const config = fromEnv({
      FAULTLINE_RETRY_MAX_ELAPSED_MS: '60000',
      FAULTLINE_WORKER_CONCURRENCY: '3',
    });
    const clock = new VirtualClock();
    expect(retry({ ...config.retry, clock }).maxAttempts).toBe(5);
    expect(circuitBreaker({ ...config.breaker, clock }).describe()).toMatch(/5 consecutive/);
    expect(new HealthMonitor({ ...config.health, clock }).failureThreshold).toBe(3);
    const store = new MemoryStore();
    const worker = new Worker(new Queue(store, 'q', { clock }), () => undefined, {
      ...config.worker,
      clock,
    });
    expect(worker.workerId).toBeTypeOf('string');
    await store.close();
  });
});
