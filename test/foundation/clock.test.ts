import { getEventListeners } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { systemClock } from '../../src/time/index.js';

/**
 * Ref'd timers only: Node leaves unref'd timers out of this list, which is what we want to see.
 * Counts are compared only within synchronous stretches of a test, so timers that the test
 * runner itself may create while a test awaits cannot disturb them.
 */
function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

function abortListeners(signal: AbortSignal): number {
  return getEventListeners(signal, 'abort').length;
}

describe('systemClock', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('now() is monotonic and wallTime() is epoch ms', () => {
    const a = systemClock.now();
    const b = systemClock.now();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(systemClock.wallTime() - Date.now())).toBeLessThan(1000);
  });

  it('a completed sleep leaves no timer and no abort listener behind', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const clearTimeoutSpy = vi.spyOn(globalThis, 'clearTimeout');
    const before = activeTimers();
    const controller = new AbortController();
    // The thing under test is the sleep itself: a 1 ms real wait is awaited on its own event.
    const sleeping = systemClock.sleep(1, controller.signal);
    expect(activeTimers()).toBe(before + 1);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    expect(abortListeners(controller.signal)).toBe(1);
    await expect(sleeping).resolves.toBeUndefined();
    // Its one timer fired (one-shot timers are then gone) and the listener was removed.
    expect(abortListeners(controller.signal)).toBe(0);
    // Aborting afterwards touches nothing: no stale listener clears a stale timer.
    const clearsBefore = clearTimeoutSpy.mock.calls.length;
    controller.abort();
    expect(clearTimeoutSpy.mock.calls.length).toBe(clearsBefore);
    setTimeoutSpy.mockRestore();
    clearTimeoutSpy.mockRestore();
  });

  it('a sleep aborted midway rejects with the reason and clears its timer and listener', async () => {
    const before = activeTimers();
    const controller = new AbortController();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    expect(activeTimers()).toBe(before + 1);
    const reason = new Error('stop');
    controller.abort(reason); // abort listeners run synchronously: the timer is cleared right here
    expect(activeTimers()).toBe(before);
    expect(abortListeners(controller.signal)).toBe(0);
    await expect(sleeping).rejects.toBe(reason);
  });

  it('a sleep on an already aborted signal rejects at once without a timer or listener', async () => {
    const before = activeTimers();
    const controller = new AbortController();
    controller.abort();
    const sleeping = systemClock.sleep(60_000, controller.signal);
    expect(activeTimers()).toBe(before);
    expect(abortListeners(controller.signal)).toBe(0);
    await expect(sleeping).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('a user sleep keeps the process alive; a background (unref) timer does not', async () => {
    const before = activeTimers();
    const cancelBackground = systemClock.schedule(60_000, () => {}, { unref: true });
    expect(activeTimers()).toBe(before);
    const controller = new AbortController();
    const userWait = systemClock.sleep(60_000, controller.signal);
    expect(activeTimers()).toBe(before + 1);
    const backgroundSleep = new AbortController();
    const background = systemClock.sleep(60_000, backgroundSleep.signal, { unref: true });
    expect(activeTimers()).toBe(before + 1);
    controller.abort();
    backgroundSleep.abort();
    cancelBackground();
    expect(activeTimers()).toBe(before);
    await expect(userWait).rejects.toMatchObject({ name: 'AbortError' });
    await expect(background).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('schedule() returns a cancel that is idempotent and prevents the callback', () => {
    vi.useFakeTimers();
    const callback = vi.fn();
    const cancel = systemClock.schedule(100, callback);
    cancel();
    cancel();
    vi.advanceTimersByTime(1000);
    expect(callback).not.toHaveBeenCalled();
  });

  it('waits longer than setTimeout can hold (2^31 ms) are chained, not fired early', () => {
    vi.useFakeTimers();
    const callback = vi.fn();
    const max = 2_147_483_647;
    systemClock.schedule(max + 5_000, callback);
    vi.advanceTimersByTime(max);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(4_999);
    expect(callback).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(callback).toHaveBeenCalledTimes(1);
  });

  it('an unref background schedule stays unref on every link of a chained wait', () => {
    vi.useFakeTimers();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    const callback = vi.fn();
    systemClock.schedule(2_147_483_647 + 10, callback, { unref: true });
    vi.advanceTimersByTime(2_147_483_647);
    vi.advanceTimersByTime(10);
    expect(callback).toHaveBeenCalledTimes(1);
    const handles = setTimeoutSpy.mock.results.map((r) => r.value as NodeJS.Timeout);
    expect(handles).toHaveLength(2);
    for (const handle of handles) expect(handle.hasRef()).toBe(false);
    setTimeoutSpy.mockRestore();
  });
});

describe('VirtualClock', () => {
  it('starts at the given time and reports a reproducible wall time', () => {
    const clock = new VirtualClock({ start: 100, wallStart: Date.UTC(2024, 0, 1) });
    expect(clock.now()).toBe(100);
    expect(clock.wallTime()).toBe(Date.UTC(2024, 0, 1));
    expect(new VirtualClock().wallTime()).toBe(Date.UTC(2020, 0, 1));
  });

  it('advance() fires due timers in time order, each at its own time', async () => {
    const clock = new VirtualClock();
    const fired: [string, number][] = [];
    clock.schedule(30, () => fired.push(['c', clock.now()]));
    clock.schedule(10, () => fired.push(['a', clock.now()]));
    clock.schedule(20, () => fired.push(['b', clock.now()]));
    clock.schedule(20, () => fired.push(['b2', clock.now()]));
    expect(clock.pendingTimers).toBe(4);
    expect(clock.nextTimerAt).toBe(10);
    await clock.advance(25);
    expect(fired).toEqual([
      ['a', 10],
      ['b', 20],
      ['b2', 20],
    ]);
    expect(clock.now()).toBe(25);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(5);
    expect(fired.at(-1)).toEqual(['c', 30]);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAt).toBeUndefined();
  });

  it('sleep resolves only when time reaches it, and chained sleeps run within one advance', async () => {
    const clock = new VirtualClock();
    const log: number[] = [];
    const run = (async () => {
      for (let i = 0; i < 3; i++) {
        await clock.sleep(1000);
        log.push(clock.now());
      }
    })();
    await clock.advance(999);
    expect(log).toEqual([]);
    await clock.advance(2001);
    await run;
    expect(log).toEqual([1000, 2000, 3000]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runAll() fires everything, including timers scheduled by timers, and counts them', async () => {
    const clock = new VirtualClock();
    let chain = 0;
    const reschedule = () => {
      chain++;
      if (chain < 5) clock.schedule(100, reschedule);
    };
    clock.schedule(100, reschedule);
    clock.schedule(50, () => {});
    expect(await clock.runAll()).toBe(6);
    expect(chain).toBe(5);
    expect(clock.now()).toBe(500);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runAll() stops a timer that reschedules itself forever', async () => {
    const clock = new VirtualClock();
    const forever = () => {
      clock.schedule(1, forever);
    };
    clock.schedule(1, forever);
    await expect(clock.runAll(50)).rejects.toThrow(/still 1 timer/);
  });

  it('next() jumps to the next timer', async () => {
    const clock = new VirtualClock();
    const callback = vi.fn();
    clock.schedule(700, callback);
    expect(await clock.next()).toBe(true);
    expect(clock.now()).toBe(700);
    expect(callback).toHaveBeenCalledOnce();
    expect(await clock.next()).toBe(false);
  });

  it('a sleep aborted midway rejects with the reason and leaves no timer or listener', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(10_000, controller.signal);
    expect(clock.pendingTimers).toBe(1);
    expect(abortListeners(controller.signal)).toBe(1);
    await clock.advance(5_000);
    const reason = new Error('shutdown');
    controller.abort(reason);
    await expect(sleeping).rejects.toBe(reason);
    expect(clock.pendingTimers).toBe(0);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a completed sleep removes its abort listener', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const sleeping = clock.sleep(10, controller.signal);
    await clock.advance(10);
    await expect(sleeping).resolves.toBeUndefined();
    expect(abortListeners(controller.signal)).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('a sleep on an already aborted signal rejects without a timer or listener', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    controller.abort(new Error('already'));
    await expect(clock.sleep(10, controller.signal)).rejects.toThrow('already');
    expect(clock.pendingTimers).toBe(0);
    expect(abortListeners(controller.signal)).toBe(0);
  });

  it('a cancelled schedule never fires and cancelling twice is harmless', async () => {
    const clock = new VirtualClock();
    const callback = vi.fn();
    const cancel = clock.schedule(10, callback);
    cancel();
    cancel();
    await clock.advance(100);
    expect(callback).not.toHaveBeenCalled();
  });

  it('a NaN or negative delay fires at the current time instead of never', async () => {
    const clock = new VirtualClock({ start: 50 });
    const fired: number[] = [];
    clock.schedule(Number.NaN, () => fired.push(clock.now()));
    clock.schedule(-10, () => fired.push(clock.now()));
    expect(clock.nextTimerAt).toBe(50);
    await clock.advance(0);
    expect(fired).toEqual([50, 50]);
  });

  it('advance() rejects a negative or NaN step', async () => {
    const clock = new VirtualClock();
    await expect(clock.advance(-1)).rejects.toThrow(RangeError);
    await expect(clock.advance(Number.NaN)).rejects.toThrow(RangeError);
  });
});
