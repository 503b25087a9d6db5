import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ConfigError, hedge } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { httpError } from './helpers.js';

describe('hedge', () => {
  it('starts a second attempt after the delay; the first success wins and the loser is aborted', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock });
    const events: unknown[] = [];
    policy.events.on('hedge', (e) => events.push(e));
    const signals: AbortSignal[] = [];
    const durations = [500, 50];
    const call = policy.execute(
      async (ctx) => {
        signals.push(ctx.signal);
        const ms = durations[signals.length - 1]!;
        await clock.sleep(ms, ctx.signal);
        return `attempt ${signals.length === 1 ? 1 : 2} (${ms} ms)`;
      },
      { operation: 'get_manifest' },
    );
    await clock.advance(150);
    await expect(call).resolves.toBe('attempt 2 (50 ms)');
    expect(signals).toHaveLength(2);
    expect(signals[0]!.aborted).toBe(true);
    expect(signals[1]!.aborted).toBe(false);
    expect(events).toEqual([{ hedge: 1, trigger: 'delay', operation: { name: 'get_manifest' } }]);
    expect(policy.stats()).toMatchObject({ executions: 1, successes: 1, retries: 1 });
    await clock.advance(1000);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a fast first attempt runs alone', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 100, clock });
    let attempts = 0;
    await expect(
      policy.execute(() => {
        attempts++;
        return 'quick';
      }),
    ).resolves.toBe('quick');
    await clock.advance(500);
    expect(attempts).toBe(1);
    expect(clock.pendingTimers).toBe(0);
  });

  it('starts the next attempt at once when one fails, and fails with the last error when all fail', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 1000, maxHedges: 2, clock });
    const started: number[] = [];
    const call = policy
      .execute(() => {
        started.push(clock.now());
        return Promise.reject(new Error(`failure ${started.length}`));
      })
      .catch((e: unknown) => e);
    await clock.advance(0);
    expect(((await call) as Error).message).toBe('failure 3');
    expect(started).toEqual([0, 0, 0]);
    expect(policy.stats()).toMatchObject({ failures: 1, retries: 2 });
  });

  it('passes the caller abort to every attempt and leaves no listener behind', async () => {
    const clock = new VirtualClock();
    const policy = hedge({ delayMs: 10, clock });
    const caller = new AbortController();
    const call = policy
      .execute((ctx) => clock.sleep(1000, ctx.signal), { signal: caller.signal })
      .catch((e: unknown) => e);
    await clock.advance(20);
    expect(getEventListeners(caller.signal, 'abort').length).toBeGreaterThan(0);
    const reason = new Error('cancelled by user');
    caller.abort(reason);
    expect(await call).toBe(reason);
    expect(getEventListeners(caller.signal, 'abort')).toHaveLength(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('validates its options', () => {
    for (const options of [
      { delayMs: -1 },
      {},
      { delayMs: 1, maxHedges: 0 },
      { delayMs: 1, clock: 'x' },
      { delayMs: 1, after: 2 },
    ]) {
      expect(() => hedge(options as never), JSON.stringify(options)).toThrow(ConfigError);
    }
    expect(hedge({ delayMs: 200 }).describe()).toBe('hedge(after 200 ms, up to 1 extra)');
  });

  it.each([400, 401, 404, 429])(
    'a %s ends the call at once: no other attempt starts, the running ones are aborted',
    async (status) => {
      const clock = new VirtualClock();
      const policy = hedge({ delayMs: 100, maxHedges: 2, clock });
      const signals: AbortSignal[] = [];
      const call = policy
        .execute(async (ctx) => {
          signals.push(ctx.signal);
          if (signals.length === 1) {
            await clock.sleep(150);
            throw httpError(status);
          }
          await clock.sleep(1_000, ctx.signal);
          return 'late';
        })
        .catch((e: unknown) => e);
      await clock.advance(150);
      expect(((await call) as { status?: number }).status).toBe(status);
      expect(signals).toHaveLength(2); // the delay hedge at 100 ms; none after the failure
      expect(signals[1]!.aborted).toBe(true);
      await clock.advance(2_000);
      expect(signals).toHaveLength(2);
      expect(policy.stats()).toMatchObject({ executions: 1, failures: 1, retries: 1 });
    },
  );

  it('rejects a plan that is not a RecoveryPlan', () => {
    expect(() => hedge({ delayMs: 1, plan: {} as never })).toThrow(ConfigError);
  });
});
