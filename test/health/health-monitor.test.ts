import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { fromEnv } from '../../src/config/env.js';
import {
  DEFAULT_HEALTH_INTERVAL_MS,
  HealthMonitor,
  type ModeChangeEvent,
} from '../../src/health/health-monitor.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const http = (status: number, headers: Record<string, string> = {}) =>
  Object.assign(new Error(`HTTP ${status}`), { status, headers });
const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('HealthMonitor', () => {
  it('enters failing after 3 consecutive failures and leaves after 5 consecutive successes', () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, intervalMs: 30_000 });
    const changes: ModeChangeEvent[] = [];
    monitor.events.on('modeChange', (e) => changes.push(e));

    monitor.recordFailure(reset());
    monitor.recordFailure(reset());
    expect(monitor.mode).toBe('healthy');
    const fault = monitor.recordFailure(http(503));
    expect(monitor.mode).toBe('failing');
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: 'healthy', to: 'failing', fault });
    expect(changes[0]!.reason).toContain('3 consecutive failures');
    expect(changes[0]!.fault?.category).toBe('unavailable');

    for (let i = 0; i < 4; i++) monitor.recordSuccess();
    expect(monitor.mode).toBe('failing');
    monitor.recordSuccess();
    expect(monitor.mode).toBe('healthy');
    expect(changes[1]).toMatchObject({ from: 'failing', to: 'healthy', fault: undefined });
    expect(changes[1]!.reason).toContain('5 consecutive successes');
  });

  it('a success in between resets the failure count (hysteresis)', () => {
    const monitor = new HealthMonitor({ clock: new VirtualClock() });
    for (let i = 0; i < 10; i++) {
      monitor.recordFailure(reset());
      monitor.recordFailure(reset());
      monitor.recordSuccess();
    }
    expect(monitor.mode).toBe('healthy');
    expect(monitor.stats().failures).toBe(20);
  });

  it('backs off 10 s doubling to 300 s while failing, interval while healthy, reset on recovery', () => {
    const monitor = new HealthMonitor({ clock: new VirtualClock(), intervalMs: 5_000 });
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      monitor.recordFailure(reset());
      delays.push(monitor.nextDelayMs());
    }
    expect(delays).toEqual([
      5_000, 5_000, 10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000,
    ]);
    // A success while failing is probed again at the normal pace.
    expect(monitor.recordSuccess()).toBe(5_000);
    monitor.recordFailure(reset());
    expect(monitor.nextDelayMs()).toBe(300_000);
    for (let i = 0; i < 5; i++) monitor.recordSuccess();
    expect(monitor.mode).toBe('healthy');
    for (let i = 0; i < 3; i++) monitor.recordFailure(reset());
    expect(monitor.nextDelayMs()).toBe(10_000);
  });

  it('failingBackoff: false waits the minimum (10 s) at every failing check, as API_ENABLE_BACKOFF=false; a custom backoff is used as given', () => {
    const off = new HealthMonitor({ intervalMs: 1_000, failingBackoff: false });
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      off.recordFailure(reset());
      waits.push(off.nextDelayMs());
    }
    expect(off.mode).toBe('failing');
    expect(waits).toEqual([1_000, 1_000, 10_000, 10_000, 10_000, 10_000]);
    expect(off.describe()).toContain('every 10000 ms while failing');
    const custom = new HealthMonitor({
      intervalMs: 1_000,
      failingBackoff: constantBackoff(7_000),
      failureThreshold: 1,
    });
    custom.recordFailure(reset());
    expect(custom.nextDelayMs()).toBe(7_000);
  });

  it('one default check interval: 10 s, the same as FAULTLINE_HEALTH_INTERVAL_MS', () => {
    expect(new HealthMonitor().intervalMs).toBe(DEFAULT_HEALTH_INTERVAL_MS);
    expect(DEFAULT_HEALTH_INTERVAL_MS).toBe(10_000);
    expect(fromEnv({}).health.intervalMs).toBe(DEFAULT_HEALTH_INTERVAL_MS);
  });

  it('honours Retry-After of a rate-limited check', () => {
    const monitor = new HealthMonitor({ intervalMs: 1_000 });
    const fault = monitor.recordFailure(http(429, { 'retry-after': '120' }));
    expect(fault.category).toBe('rate_limit');
    expect(monitor.nextDelayMs()).toBe(120_000);
  });

  it('remembers the last fault and counts failures by category', () => {
    const monitor = new HealthMonitor();
    monitor.recordFailure(reset());
    monitor.recordFailure(http(503));
    monitor.recordFailure(http(500));
    monitor.recordFailure(http(401));
    monitor.recordFailure(http(429));
    const stats = monitor.stats();
    expect(stats.failuresByCategory).toEqual({
      network: 1,
      unavailable: 2,
      auth: 1,
      rate_limit: 1,
    });
    expect(monitor.lastFault?.category).toBe('rate_limit');
    expect(stats.lastFault?.status).toBe(429);
  });

  it('detects flapping within the window and calms down after it', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({
      clock,
      failureThreshold: 1,
      stabilityThreshold: 1,
      flapping: { maxModeChanges: 4, windowMs: 60_000 },
    });
    const flaps: { unstable: boolean; modeChanges: number }[] = [];
    monitor.events.on('flapping', (e) =>
      flaps.push({ unstable: e.unstable, modeChanges: e.modeChanges }),
    );
    monitor.recordFailure(reset());
    monitor.recordSuccess();
    monitor.recordFailure(reset());
    expect(monitor.unstable).toBe(false);
    monitor.recordSuccess();
    expect(monitor.unstable).toBe(true);
    expect(flaps).toEqual([{ unstable: true, modeChanges: 4 }]);
    await clock.advance(61_000);
    monitor.recordSuccess();
    expect(monitor.unstable).toBe(false);
    expect(flaps[1]).toEqual({ unstable: false, modeChanges: 0 });
  });

  it('rejects invalid options with ConfigError', () => {
    expect(() => new HealthMonitor({ failureThreshold: 0 })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ stabilityThreshold: 1.5 })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ intervalMs: -1 })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ intervalMs: Number.NaN })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ failingBackoff: 10 as never })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ flapping: { maxModeChanges: 1 } })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ flapping: { windowMs: 0 } })).toThrow(ConfigError);
    expect(() => new HealthMonitor({ failureTreshold: 3 } as never)).toThrow(/failureTreshold/);
  });

  it('property: the mode always matches a simple model of the thresholds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.boolean(), { maxLength: 200 }),
        (failAfter, recoverAfter, outcomes) => {
          const monitor = new HealthMonitor({
            failureThreshold: failAfter,
            stabilityThreshold: recoverAfter,
            flapping: false,
          });
          let mode = 'healthy';
          let run = 0;
          let last: boolean | undefined;
          let changes = 0;
          for (const ok of outcomes) {
            run = ok === last ? run + 1 : 1;
            last = ok;
            if (ok) monitor.recordSuccess();
            else monitor.recordFailure(reset());
            if (mode === 'healthy' && !ok && run >= failAfter) {
              mode = 'failing';
              changes++;
            } else if (mode === 'failing' && ok && run >= recoverAfter) {
              mode = 'healthy';
              changes++;
            }
            expect(monitor.mode).toBe(mode);
            const delay = monitor.nextDelayMs();
            expect(delay).toBeGreaterThan(0);
            expect(delay).toBeLessThanOrEqual(300_000);
          }
          expect(monitor.stats().modeChanges).toBe(changes);
        },
      ),
    );
  });
});
