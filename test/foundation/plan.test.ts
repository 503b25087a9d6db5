import { describe, expect, it } from 'vitest';
import { ConfigError, classify, type Fault, type FaultCategory } from '../../src/faults/index.js';
import {
  constantBackoff,
  DEFAULT_RULES,
  defaultPlan,
  exponentialBackoff,
  formatMs,
  recoveryPlan,
  seededRandom,
} from '../../src/recovery/index.js';

/** A fault of a given category, as classify would produce it from an error declaring it. */
function fault(
  category: FaultCategory,
  extra: { retryAfterMs?: number; retryable?: boolean; code?: string } = {},
): Fault {
  return classify(Object.assign(new Error(`a ${category} error`), { category, ...extra }));
}

const top = () => 0.999_999_999;

describe('the default plan', () => {
  it('maps every category as issue 2 states', () => {
    const rows = Object.fromEntries(
      defaultPlan.describe().map((r) => [r.category, [r.action, r.maxAttempts]]),
    );
    expect(rows).toMatchObject({
      auth: ['abort', expect.any(Number)],
      rate_limit: ['pause', 10],
      network: ['retry', 5],
      timeout: ['retry', 5],
      unavailable: ['retry', 5],
      conflict: ['retry', 5],
      validation: ['skip', expect.any(Number)],
      permanent: ['skip', expect.any(Number)],
      resource: ['abort', expect.any(Number)],
      cancelled: ['abort', expect.any(Number)],
      unknown: ['retry', 3],
    });
    expect(Object.keys(DEFAULT_RULES).sort()).toEqual(Object.keys(rows).sort());
  });

  it.each([
    ['auth', 'abort'],
    ['validation', 'skip'],
    ['permanent', 'skip'],
    ['resource', 'abort'],
    ['cancelled', 'abort'],
  ] as const)('%s → %s at once, with no delay', (category, action) => {
    const decision = defaultPlan.decide(fault(category), { attempt: 1 });
    expect(decision).toMatchObject({ action, delayMs: 0, attempt: 1 });
    expect(decision.reason).toContain(category);
    expect(decision.suggestions.length).toBeGreaterThan(0);
  });

  it('network, timeout, unavailable, conflict: retry up to 5 attempts with 1 s × 2 full jitter', () => {
    const plan = recoveryPlan({ random: top });
    for (const category of ['network', 'timeout', 'unavailable', 'conflict'] as const) {
      const delays = [1, 2, 3, 4].map((attempt) => plan.decide(fault(category), { attempt }));
      expect(delays.map((d) => d.action)).toEqual(['retry', 'retry', 'retry', 'retry']);
      expect(delays.map((d) => d.delayMs)).toEqual([1000, 2000, 4000, 8000]);
      expect(delays[0]!.reason).toMatch(/retry 2\/5 in 1 s/);
      expect(plan.decide(fault(category), { attempt: 5 })).toMatchObject({
        action: 'give_up',
        delayMs: 0,
      });
    }
  });

  it('the 30 s cap holds for late attempts', () => {
    const plan = recoveryPlan({ random: top, maxAttempts: { network: 100 } });
    expect(plan.decide(fault('network'), { attempt: 50 }).delayMs).toBe(30_000);
  });

  it('unknown: retry up to 3 attempts', () => {
    expect(defaultPlan.decide(fault('unknown'), { attempt: 2 }).action).toBe('retry');
    expect(defaultPlan.decide(fault('unknown'), { attempt: 3 }).action).toBe('give_up');
  });

  it('rate_limit pauses for exactly the Retry-After, at every attempt', () => {
    for (const attempt of [1, 3, 6]) {
      const decision = defaultPlan.decide(fault('rate_limit', { retryAfterMs: 7000 }), { attempt });
      expect(decision).toMatchObject({ action: 'pause', delayMs: 7000 });
      expect(decision.reason).toMatch(/pausing for 7 s as the server asked/);
    }
  });

  it('rate_limit without Retry-After pauses for a backoff (5 s → 5 min, equal jitter)', () => {
    const plan = recoveryPlan({ random: () => 0 });
    expect(plan.decide(fault('rate_limit'), { attempt: 1 })).toMatchObject({
      action: 'pause',
      delayMs: 2500,
    });
    expect(plan.decide(fault('rate_limit'), { attempt: 2 }).delayMs).toBe(5000);
  });

  it('a retry never comes back earlier than Retry-After', () => {
    const plan = recoveryPlan({ random: () => 0 });
    const decision = plan.decide(fault('unavailable', { retryAfterMs: 12_345 }), { attempt: 1 });
    expect(decision).toMatchObject({ action: 'retry', delayMs: 12_345 });
    expect(decision.reason).toMatch(/as the server asked/);
  });

  it('a fault marked not retryable is skipped even under a retry rule', () => {
    expect(
      defaultPlan.decide(fault('network', { retryable: false }), { attempt: 1 }),
    ).toMatchObject({ action: 'skip' });
  });

  it('gives up rather than wait longer than maxWaitMs (default 5 min for retries)', () => {
    const decision = defaultPlan.decide(fault('unavailable', { retryAfterMs: 10 * 60_000 }), {
      attempt: 1,
    });
    expect(decision.action).toBe('give_up');
    expect(decision.reason).toMatch(/more than the 5.0 min allowed/);
  });

  it('decisions carry the fault, the attempt and its suggestions', () => {
    const f = classify(Object.assign(new Error('disk full'), { code: 'ENOSPC' }));
    const decision = defaultPlan.decide(f, { attempt: 2 });
    expect(decision).toMatchObject({ action: 'abort', fault: f, attempt: 2 });
    expect(decision.suggestions).toBe(f.suggestions);
    expect(decision.reason).toBe('resource (ENOSPC): stopping (resource errors abort the work)');
  });
});

describe('overrides, multipliers and attempt limits in one place', () => {
  const plan = recoveryPlan({
    rules: {
      validation: 'retry',
      permanent: { action: 'retry', maxAttempts: 2, backoff: constantBackoff(100) },
      unknown: 'fallback',
      timeout: { action: 'retry', maxElapsedMs: 10_000 },
    },
    delayMultipliers: { rate_limit: 3, network: 0.5 },
    maxAttempts: { rate_limit: 2, conflict: 8 },
    random: top,
  });

  it('per-category rules replace the defaults', () => {
    expect(plan.decide(fault('validation', { retryable: true }), { attempt: 1 }).action).toBe(
      'retry',
    );
    expect(plan.decide(fault('permanent', { retryable: true }), { attempt: 1 })).toMatchObject({
      action: 'retry',
      delayMs: 100,
    });
    expect(plan.decide(fault('permanent', { retryable: true }), { attempt: 2 }).action).toBe(
      'give_up',
    );
    expect(plan.decide(fault('unknown'), { attempt: 1 })).toMatchObject({
      action: 'fallback',
      delayMs: 0,
    });
    // Categories not overridden keep the default.
    expect(plan.decide(fault('auth'), { attempt: 1 }).action).toBe('abort');
  });

  it('network errors wait half as long; quota errors three times as long', () => {
    expect(plan.decide(fault('network'), { attempt: 1 }).delayMs).toBe(500);
    expect(plan.decide(fault('network'), { attempt: 3 }).delayMs).toBe(2000);
    // A pause without Retry-After: the 5 s pause backoff, ×3.
    expect(plan.decide(fault('rate_limit'), { attempt: 1 }).delayMs).toBe(15_000);
    // With Retry-After: three times what the server asked (a multiplier never shortens it).
    expect(plan.decide(fault('rate_limit', { retryAfterMs: 2000 }), { attempt: 1 }).delayMs).toBe(
      6000,
    );
    const halved = recoveryPlan({ delayMultipliers: { rate_limit: 0.5 } });
    expect(halved.decide(fault('rate_limit', { retryAfterMs: 2000 }), { attempt: 1 }).delayMs).toBe(
      2000,
    );
  });

  it('quota errors retried only twice; conflicts up to 8 attempts', () => {
    expect(plan.decide(fault('rate_limit'), { attempt: 1 }).action).toBe('pause');
    expect(plan.decide(fault('rate_limit'), { attempt: 2 }).action).toBe('give_up');
    expect(plan.decide(fault('conflict'), { attempt: 7 }).action).toBe('retry');
    expect(plan.decide(fault('conflict'), { attempt: 8 }).action).toBe('give_up');
  });

  it('maxElapsedMs gives up once the total time would be exceeded', () => {
    expect(plan.decide(fault('timeout'), { attempt: 1, elapsedMs: 5000 }).action).toBe('retry');
    const late = plan.decide(fault('timeout'), { attempt: 2, elapsedMs: 9000 });
    expect(late.action).toBe('give_up');
    expect(late.reason).toMatch(/out of time/);
  });

  it('rule() and describe() show the resolved rules', () => {
    expect(plan.rule('network')).toMatchObject({
      action: 'retry',
      maxAttempts: 5,
      multiplier: 0.5,
    });
    expect(plan.describe().find((r) => r.category === 'rate_limit')).toEqual({
      category: 'rate_limit',
      action: 'pause',
      maxAttempts: 2,
      multiplier: 3,
    });
  });

  it('a seeded random source makes decisions reproducible', () => {
    const a = recoveryPlan({ random: seededRandom(7) });
    const b = recoveryPlan({ random: seededRandom(7) });
    const run = (p: typeof a) =>
      [1, 2, 3, 4].map((attempt) => p.decide(fault('network'), { attempt }).delayMs);
    expect(run(a)).toEqual(run(b));
  });

  it('a custom default backoff applies to retry rules that name none', () => {
    const p = recoveryPlan({
      backoff: exponentialBackoff({ initialMs: 10, maxDelayMs: 40, jitter: 'none' }),
    });
    expect([1, 2, 3, 4].map((attempt) => p.decide(fault('network'), { attempt }).delayMs)).toEqual([
      10, 20, 40, 40,
    ]);
  });
});

describe('decide() input', () => {
  it.each([0, -1, 1.5, Number.NaN, '2'])(
    'attempt %s is a ConfigError naming plan.attempt',
    (attempt) => {
      expect(() => defaultPlan.decide(fault('network'), { attempt: attempt as number })).toThrow(
        ConfigError,
      );
      try {
        defaultPlan.decide(fault('network'), { attempt: attempt as number });
      } catch (error) {
        expect((error as ConfigError).option).toBe('plan.attempt');
      }
    },
  );

  it('a value that is not a Fault is a ConfigError naming plan.fault', () => {
    for (const value of [new Error('raw'), null, { category: 'quota' }]) {
      expect(() => defaultPlan.decide(value as never, { attempt: 1 })).toThrow(
        /Invalid option plan.fault:/,
      );
    }
  });

  it('a negative or NaN elapsedMs (clock skew between processes) counts as none', () => {
    const plan = recoveryPlan({
      rules: { network: { action: 'retry', maxElapsedMs: 5000 } },
      random: () => 0,
    });
    expect(plan.decide(fault('network'), { attempt: 1, elapsedMs: -10_000 }).action).toBe('retry');
    expect(plan.decide(fault('network'), { attempt: 1, elapsedMs: Number.NaN }).action).toBe(
      'retry',
    );
  });
});

describe('bad plan options throw ConfigError naming the option and the value, at construction', () => {
  const cases: [string, () => unknown, string, unknown][] = [
    [
      'negative attempts',
      () => recoveryPlan({ maxAttempts: { network: -1 } }),
      'plan.maxAttempts.network',
      -1,
    ],
    [
      'zero attempts',
      () => recoveryPlan({ maxAttempts: { network: 0 } }),
      'plan.maxAttempts.network',
      0,
    ],
    [
      'fractional attempts',
      () => recoveryPlan({ maxAttempts: { network: 1.5 } }),
      'plan.maxAttempts.network',
      1.5,
    ],
    [
      'NaN multiplier',
      () => recoveryPlan({ delayMultipliers: { network: Number.NaN } }),
      'plan.delayMultipliers.network',
      Number.NaN,
    ],
    [
      'negative multiplier',
      () => recoveryPlan({ delayMultipliers: { network: -2 } }),
      'plan.delayMultipliers.network',
      -2,
    ],
    [
      'unknown category in maxAttempts',
      () => recoveryPlan({ maxAttempts: { netwrk: 3 } as never }),
      'plan.maxAttempts.netwrk',
      3,
    ],
    [
      'unknown category in multipliers',
      () => recoveryPlan({ delayMultipliers: { quota: 3 } as never }),
      'plan.delayMultipliers.quota',
      3,
    ],
    [
      'unknown category in rules',
      () => recoveryPlan({ rules: { throttled: 'retry' } as never }),
      'plan.rules.throttled',
      'retry',
    ],
    [
      'unknown action',
      () => recoveryPlan({ rules: { network: 'explode' as never } }),
      'plan.rules.network.action',
      'explode',
    ],
    [
      'fractional rule attempts',
      () => recoveryPlan({ rules: { network: { action: 'retry', maxAttempts: 2.5 } } }),
      'plan.rules.network.maxAttempts',
      2.5,
    ],
    [
      'negative rule maxWaitMs',
      () => recoveryPlan({ rules: { network: { action: 'retry', maxWaitMs: -1 } } }),
      'plan.rules.network.maxWaitMs',
      -1,
    ],
    [
      'NaN rule maxElapsedMs',
      () => recoveryPlan({ rules: { network: { action: 'pause', maxElapsedMs: Number.NaN } } }),
      'plan.rules.network.maxElapsedMs',
      Number.NaN,
    ],
    [
      'typo in a rule',
      () => recoveryPlan({ rules: { network: { action: 'retry', maxAtempts: 3 } as never } }),
      'plan.rules.network.maxAtempts',
      3,
    ],
    [
      'option on a terminal rule',
      () => recoveryPlan({ rules: { auth: { action: 'abort', maxAttempts: 3 } as never } }),
      'plan.rules.auth.maxAttempts',
      3,
    ],
    [
      'backoff that is not a backoff',
      () => recoveryPlan({ backoff: { delay: () => 1 } as never }),
      'plan.backoff',
      undefined,
    ],
    [
      'rule backoff that is not a backoff',
      () => recoveryPlan({ rules: { network: { action: 'retry', backoff: 5 as never } } }),
      'plan.rules.network.backoff',
      5,
    ],
    [
      'random that is not a function',
      () => recoveryPlan({ random: 0.5 as never }),
      'plan.random',
      0.5,
    ],
    ['unknown plan option', () => recoveryPlan({ retries: 3 } as never), 'plan.retries', 3],
    ['options that are not an object', () => recoveryPlan('fast' as never), 'plan', 'fast'],
  ];

  it.each(cases)('%s', (_label, build, option, value) => {
    let caught: unknown;
    try {
      build();
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error.option).toBe(option);
    expect(error.message).toContain(option);
    if (value !== undefined) {
      expect(Object.is(error.value, value)).toBe(true);
      expect(error.message).toContain(
        typeof value === 'string' ? JSON.stringify(value) : String(value),
      );
    }
  });
});

describe('formatMs', () => {
  it.each([
    [250, '250 ms'],
    [1000, '1 s'],
    [1500, '1.5 s'],
    [90_000, '1.5 min'],
    [2 * 3_600_000, '2.0 h'],
    [Number.POSITIVE_INFINITY, 'forever'],
  ])('%d → %s', (ms, text) => {
    expect(formatMs(ms)).toBe(text);
  });
});
