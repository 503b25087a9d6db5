import { describe, expect, it } from 'vitest';
import { adaptive, ConfigError } from '../../src/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import type { Clock } from '../../src/time/clock.js';
import { CoarseNow } from '../../src/time/coarse-now.js';
import { systemClock } from '../../src/time/system-clock.js';

describe('CoarseNow', () => {
  it('reads the clock once per resolution while in use, never ahead of it', async () => {
    const clock = new VirtualClock();
    let reads = 0;
    const now = () => {
      reads++;
      return clock.now();
    };
    const counted: Clock = {
      now,
      wallTime: () => clock.wallTime(),
      sleep: clock.sleep.bind(clock),
      schedule: clock.schedule.bind(clock),
    };
    const time = new CoarseNow(counted, 10);
    await clock.advance(5);
    expect(time.now()).toBe(5);
    await clock.advance(7); // the tick at 15 has not run yet
    expect(time.now()).toBe(5);
    expect(reads).toBe(1);
    await clock.advance(3); // tick at 15: refreshed
    expect(time.now()).toBe(15);
    expect(time.now()).toBeLessThanOrEqual(clock.now());
    expect(reads).toBe(2);
  });

  it('stops ticking after a period nobody read it; the next read starts again', async () => {
    const clock = new VirtualClock();
    const time = new CoarseNow(clock, 10);
    time.now();
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(10); // read since start: ticks once more
    await clock.advance(10); // nobody read: stops
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
    expect(time.now()).toBe(120);
    time.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('exact() reads the clock and refreshes the cached reading', async () => {
    const clock = new VirtualClock();
    const time = new CoarseNow(clock, 50);
    time.now();
    await clock.advance(20);
    expect(time.exact()).toBe(20);
    expect(time.now()).toBe(20);
    time.stop();
  });

  it('resolution 0 reads the clock every time and schedules nothing', async () => {
    const clock = new VirtualClock();
    const time = new CoarseNow(clock, 0);
    await clock.advance(3);
    expect(time.now()).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });

  it('defaults to coarse on the system clock only', () => {
    expect(CoarseNow.defaultResolution(systemClock, 25)).toBe(25);
    expect(CoarseNow.defaultResolution(new VirtualClock(), 25)).toBe(0);
  });

  it('the adaptive throttle validates resolutionMs and is exact on a virtual clock', async () => {
    expect(() => adaptive({ resolutionMs: -1 })).toThrow(ConfigError);
    const clock = new VirtualClock();
    const throttle = adaptive({ clock, resolutionMs: 1_000, windowMs: 60_000, buckets: 6 });
    await throttle.execute(() => 'ok');
    expect(clock.pendingTimers).toBe(1); // the tick, while in use
    await clock.advance(2_000);
    expect(clock.pendingTimers).toBe(0);
    expect(throttle.stats()).toMatchObject({ requests: 1, successes: 1 });
  });
});
