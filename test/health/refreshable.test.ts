import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import {
  type RefreshFailedEvent,
  Refreshable,
  type StaleServedEvent,
} from '../../src/health/refreshable.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { deferred } from '../deferred.js';

describe('refreshable', () => {
  it('one load serves all concurrent callers', async () => {
    const clock = new VirtualClock();
    const gate = deferred<string>();
    let loads = 0;
    const url = new Refreshable(
      () => {
        loads++;
        return gate.promise;
      },
      { ttlMs: 60_000, clock },
    );
    const callers = Array.from({ length: 50 }, () => url.get());
    gate.resolve('https://cdn/v1');
    expect(await Promise.all(callers)).toEqual(Array(50).fill('https://cdn/v1'));
    expect(loads).toBe(1);
    expect(await url.get()).toBe('https://cdn/v1');
    expect(loads).toBe(1);
  });

  it('loads again after the ttl', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const value = new Refreshable(() => ++n, { ttlMs: 1_000, clock });
    expect(await value.get()).toBe(1);
    await clock.advance(999);
    expect(await value.get()).toBe(1);
    await clock.advance(1);
    expect(await value.get()).toBe(2);
  });

  it('refreshes ahead of expiry in the background, callers keep the current value', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const gate = deferred<number>();
    const reasons: string[] = [];
    const value = new Refreshable(
      ({ reason }) => {
        reasons.push(reason);
        return ++n === 1 ? 1 : gate.promise;
      },
      { ttlMs: 10_000, refreshAheadMs: 2_000, clock },
    );
    expect(await value.get()).toBe(1);
    await clock.advance(8_500);
    expect(await value.get()).toBe(1);
    expect(await value.get()).toBe(1);
    expect(reasons).toEqual(['initial', 'ahead']);
    gate.resolve(2);
    await clock.advance(0);
    expect(await value.get()).toBe(2);
    expect(reasons).toEqual(['initial', 'ahead']);
  });

  it('expiresAt(value) uses the wall clock (signed URL expiry)', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const value = new Refreshable(() => ({ url: `u${++n}`, expires: clock.wallTime() + 5_000 }), {
      expiresAt: (v) => v.expires,
      clock,
    });
    expect((await value.get()).url).toBe('u1');
    await clock.advance(4_999);
    expect((await value.get()).url).toBe('u1');
    await clock.advance(1);
    expect((await value.get()).url).toBe('u2');
  });

  it('serves the stale value within staleIfErrorMs when the refresh fails, with an event; not after', async () => {
    const clock = new VirtualClock();
    let fail = false;
    let n = 0;
    const value = new Refreshable(
      () => {
        if (fail) throw Object.assign(new Error('HTTP 503'), { status: 503 });
        return ++n;
      },
      { ttlMs: 1_000, staleIfErrorMs: 5_000, clock },
    );
    const stale: StaleServedEvent[] = [];
    const failed: RefreshFailedEvent[] = [];
    value.events.on('stale', (e) => stale.push(e));
    value.events.on('refreshFailed', (e) => failed.push(e));
    expect(await value.get()).toBe(1);
    fail = true;
    await clock.advance(3_000);
    expect(await value.get()).toBe(1);
    expect(stale).toHaveLength(1);
    expect(stale[0]!.staleForMs).toBe(2_000);
    expect(stale[0]!.fault.category).toBe('unavailable');
    expect(failed[0]).toMatchObject({ reason: 'expired', servingStale: true });
    await clock.advance(3_000);
    await expect(value.get()).rejects.toThrow('HTTP 503');
    expect(failed[1]).toMatchObject({ servingStale: false });
    fail = false;
    expect(await value.get()).toBe(2);
    expect(value.stats()).toMatchObject({ loads: 4, loadFailures: 2, staleServed: 1 });
  });

  it('invalidate() forces the next get() to load and keeps the old value as the stale fallback', async () => {
    const clock = new VirtualClock();
    let fail = false;
    let n = 0;
    const reasons: string[] = [];
    const value = new Refreshable(
      ({ reason }) => {
        reasons.push(reason);
        if (fail) throw new Error('resolver down');
        return `v${++n}`;
      },
      { ttlMs: 60_000, staleIfErrorMs: 10_000, clock },
    );
    expect(await value.get()).toBe('v1');
    value.invalidate();
    expect(await value.get()).toBe('v2');
    value.invalidate();
    fail = true;
    expect(await value.get()).toBe('v2');
    expect(reasons).toEqual(['initial', 'invalidated', 'invalidated']);
    value.clear();
    await expect(value.get()).rejects.toThrow('resolver down');
  });

  it('failureCooldownMs: after a failed refresh the stale value is served without asking again for a while', async () => {
    const clock = new VirtualClock();
    let fail = false;
    let loads = 0;
    const value = new Refreshable(
      () => {
        loads++;
        if (fail) throw new Error('source down');
        return loads;
      },
      { ttlMs: 1_000, staleIfErrorMs: 60_000, failureCooldownMs: 5_000, clock },
    );
    expect(await value.get()).toBe(1);
    fail = true;
    await clock.advance(1_000);
    expect(await value.get()).toBe(1);
    expect(loads).toBe(2);
    for (let i = 0; i < 10; i++) expect(await value.get()).toBe(1);
    await clock.advance(4_999);
    expect(await value.get()).toBe(1);
    expect(loads).toBe(2);
    await clock.advance(1);
    fail = false;
    expect(await value.get()).toBe(3);
    expect(value.stats()).toMatchObject({ loads: 3, loadFailures: 1, staleServed: 12 });
  });

  it('a failed first load rejects every waiting caller, and the next get() tries again', async () => {
    let n = 0;
    const value = new Refreshable(
      async () => {
        if (++n === 1) throw new Error('boom');
        return n;
      },
      { ttlMs: 1_000, clock: new VirtualClock() },
    );
    const results = await Promise.allSettled([value.get(), value.get(), value.get()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(await value.get()).toBe(2);
  });

  it('rejects bad options with ConfigError', () => {
    const load = () => 1;
    expect(() => new Refreshable(load, {})).toThrow(ConfigError);
    expect(() => new Refreshable(load, { ttlMs: 1, expiresAt: () => 1 })).toThrow(ConfigError);
    expect(() => new Refreshable(load, { ttlMs: 0 })).toThrow(ConfigError);
    expect(() => new Refreshable(load, { ttlMs: 1, refreshAheadMs: -1 })).toThrow(ConfigError);
    expect(() => new Refreshable(load, { ttlMs: 1, staleIfErrorMs: Number.NaN })).toThrow(
      ConfigError,
    );
    expect(() => new Refreshable(load, { ttlMs: 1, failureCooldownMs: -5 })).toThrow(ConfigError);
    expect(() => new Refreshable(load, { ttl: 1 } as never)).toThrow(ConfigError);
    expect(() => new Refreshable(null as never, { ttlMs: 1 })).toThrow(ConfigError);
  });

  it('property: concurrent gets at random times never load more than once per expiry', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 30 }),
        async (steps) => {
          const clock = new VirtualClock();
          let loads = 0;
          const value = new Refreshable(() => clock.sleep(100).then(() => ++loads), {
            ttlMs: 1_000,
            clock,
          });
          const pending: Promise<number>[] = [];
          for (const step of steps) {
            pending.push(value.get(), value.get());
            await clock.advance(step);
          }
          await clock.runAll();
          const got = await Promise.all(pending);
          // Loads are at least 1 100 ms apart (100 ms load + 1 000 ms ttl), so their count is bounded by elapsed time.
          expect(loads).toBeLessThanOrEqual(Math.floor(clock.now() / 1_100) + 1);
          expect(new Set(got).size).toBeLessThanOrEqual(loads);
        },
      ),
      { numRuns: 50 },
    );
  });
});
