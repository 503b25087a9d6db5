/** `whenExhausted: 'abort'`: spent retries stop the whole work (the crawler's network rule). */
import { describe, expect, it } from 'vitest';
import { classify, ConfigError } from '../../src/faults/index.js';
import { exponentialBackoff, recoveryPlan } from '../../src/recovery/index.js';

const reset = classify(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }));

describe('plan: whenExhausted', () => {
  it('retries 5 times at 1, 2, 4, 8, 16 s, then aborts instead of giving up', () => {
    const plan = recoveryPlan({
      rules: {
        network: {
          action: 'retry',
          maxAttempts: 6,
          backoff: exponentialBackoff({ initialMs: 1_000, jitter: 'none', maxDelayMs: 60_000 }),
          whenExhausted: 'abort',
        },
      },
    });
    const decisions = [1, 2, 3, 4, 5, 6].map((attempt) => plan.decide(reset, { attempt }));
    expect(decisions.slice(0, 5).map((d) => [d.action, d.delayMs])).toEqual([
      ['retry', 1_000],
      ['retry', 2_000],
      ['retry', 4_000],
      ['retry', 8_000],
      ['retry', 16_000],
    ]);
    expect(decisions[5]).toMatchObject({ action: 'abort' });
    expect(decisions[5]!.reason).toMatch(/gave up after 6 attempts .*stopping/);
  });

  it('defaults to give_up, and checks the value', () => {
    expect(recoveryPlan().decide(reset, { attempt: 5 }).action).toBe('give_up');
    expect(() =>
      recoveryPlan({ rules: { network: { action: 'retry', whenExhausted: 'explode' as never } } }),
    ).toThrow(ConfigError);
    expect(() =>
      recoveryPlan({ rules: { rate_limit: { action: 'pause', whenExhausted: 'abort' } as never } }),
    ).toThrow(ConfigError);
  });
});

describe('plan: the reason says where a wait comes from', () => {
  it('the server’s exact ask, a longer wait with what the server asked, or the breaker', async () => {
    const { BrokenCircuitError } = await import('../../src/faults/index.js');
    const http429 = classify(
      Object.assign(new Error('HTTP 429'), { status: 429, headers: { 'retry-after': '2' } }),
    );
    expect(recoveryPlan().decide(http429, { attempt: 1 }).reason).toBe(
      'rate_limit (429): pausing for 2 s as the server asked',
    );
    const tripled = recoveryPlan({ delayMultipliers: { rate_limit: 3 } }).decide(http429, {
      attempt: 1,
    });
    expect(tripled).toMatchObject({
      delayMs: 6_000,
      reason: 'rate_limit (429): pausing for 6 s (the server asked for 2 s)',
    });
    const open = classify(new BrokenCircuitError('open', { retryAfterMs: 30_000 }));
    const decision = recoveryPlan({ random: () => 0 }).decide(open, { attempt: 1 });
    expect(decision.reason).toMatch(
      /retry 2\/5 in 30 s, when the circuit breaker lets calls through again$/,
    );
    expect(decision.reason).not.toContain('server');
  });
});
