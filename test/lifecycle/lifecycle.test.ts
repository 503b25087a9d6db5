import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { Lifecycle, ShutdownInProgressError } from '../../src/lifecycle/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

function libraryLifecycle(
  clock: VirtualClock,
  options: { graceMs?: number; deadlineMs?: number; cleanupTimeoutMs?: number } = {},
) {
  const lines: string[] = [];
  const lc = new Lifecycle({
    signals: [],
    exit: false,
    clock,
    log: (l) => lines.push(l),
    ...options,
  });
  return { lc, lines };
}

describe('lifecycle (library mode, virtual clock)', () => {
  it('shutdown(): stops intake at once, waits for tracked work, aborts, cleans up in reverse order, exit 0', async () => {
    const clock = new VirtualClock();
    const { lc } = libraryLifecycle(clock, { graceMs: 5_000 });
    const order: string[] = [];
    lc.onCleanup('first', () => {
      order.push('first');
    });
    lc.onCleanup('second', async () => {
      await clock.sleep(100);
      order.push('second');
    });
    lc.track(
      clock.sleep(2_000).then(() => order.push('work')),
      'job',
    );
    const report = lc.shutdown('deploy');
    expect(lc.stopping.aborted).toBe(true);
    expect(lc.signal.aborted).toBe(false);
    expect(lc.state).toBe('draining');
    await expect(lc.track(async () => 1)).rejects.toBeInstanceOf(ShutdownInProgressError);
    await clock.runAll();
    const result = await report;
    expect(order).toEqual(['work', 'second', 'first']);
    expect(lc.signal.aborted).toBe(true);
    expect(result).toMatchObject({ reason: 'deploy', exitCode: 0, forced: false, aborted: [] });
    expect(result.cleanups.map((c) => [c.name, c.ok])).toEqual([
      ['second', true],
      ['first', true],
    ]);
    expect(await lc.done).toBe(result);
    expect(lc.state).toBe('stopped');
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts tracked work when the grace period runs out', async () => {
    const clock = new VirtualClock();
    const { lc, lines } = libraryLifecycle(clock, { graceMs: 1_000 });
    let abortedAt: number | undefined;
    lc.track(
      (signal) =>
        new Promise<void>((resolve) =>
          signal.addEventListener('abort', () => {
            abortedAt = clock.now();
            resolve();
          }),
        ),
      'upload',
    );
    const report = lc.shutdown('test');
    await clock.runAll();
    expect(abortedAt).toBe(1_000);
    expect((await report).aborted).toEqual(['upload']);
    expect(lines).toContain('faultline: grace period over, aborting 1 tracked task (upload)');
  });

  it('a cleanup that throws or times out is reported, the others still run, exit code 1', async () => {
    const clock = new VirtualClock();
    const { lc } = libraryLifecycle(clock, { cleanupTimeoutMs: 500 });
    const ran: string[] = [];
    let hookSignal: AbortSignal | undefined;
    lc.onCleanup('a', () => {
      ran.push('a');
    });
    lc.onCleanup('hangs', (signal) => {
      hookSignal = signal;
      ran.push('hangs');
      return new Promise(() => {});
    });
    lc.onCleanup('throws', () => {
      ran.push('throws');
      throw new Error('disk gone');
    });
    const report = lc.shutdown('test', 0);
    await clock.runAll();
    const result = await report;
    expect(ran).toEqual(['throws', 'hangs', 'a']);
    expect(result.exitCode).toBe(1);
    expect(result.cleanups.map((c) => ({ name: c.name, ok: c.ok, timedOut: c.timedOut }))).toEqual([
      { name: 'throws', ok: false, timedOut: false },
      { name: 'hangs', ok: false, timedOut: true },
      { name: 'a', ok: true, timedOut: false },
    ]);
    expect(result.cleanups[1]!.durationMs).toBe(500);
    expect(hookSignal?.aborted).toBe(true);
  });

  it('the deadline forces the end when aborted work ignores the abort', async () => {
    const clock = new VirtualClock();
    const { lc, lines } = libraryLifecycle(clock, { graceMs: 1_000, deadlineMs: 3_000 });
    lc.track(new Promise(() => {}), 'deaf-task');
    let cleaned = false;
    lc.onCleanup('late', () => {
      cleaned = true;
    });
    lc.shutdown('test');
    await clock.advance(3_000);
    const report = await lc.done;
    await clock.runAll();
    expect(cleaned).toBe(false);
    expect(report).toMatchObject({ forced: true, exitCode: 1, aborted: ['deaf-task'] });
    expect(lines.at(-1)).toContain(
      'forced exit (deadline of 3000 ms passed); still running: work: deaf-task',
    );
  });

  it('shutdown() twice returns the same shutdown; unregistered cleanups do not run', async () => {
    const clock = new VirtualClock();
    const { lc } = libraryLifecycle(clock);
    let ran = false;
    const off = lc.onCleanup('gone', () => {
      ran = true;
    });
    off();
    const a = lc.shutdown('one');
    const b = lc.shutdown('two');
    expect(a).toBe(b);
    await clock.runAll();
    expect((await a).reason).toBe('one');
    expect(ran).toBe(false);
  });

  it('installs signal listeners and removes them on dispose and after a library-mode shutdown', async () => {
    const before = process.listenerCount('SIGTERM');
    const lc = new Lifecycle({ exit: false, log: () => {}, clock: new VirtualClock() });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    lc.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
    const clock = new VirtualClock();
    const lc2 = new Lifecycle({ exit: false, log: () => {}, clock, handleUncaught: true });
    expect(process.listenerCount('SIGINT')).toBeGreaterThan(0);
    const done = lc2.shutdown();
    await clock.runAll();
    await done;
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => new Lifecycle({ graceMs: -1 })).toThrow(ConfigError);
    expect(() => new Lifecycle({ graceMs: 10_000, deadlineMs: 5_000 })).toThrow(ConfigError);
    expect(() => new Lifecycle({ signals: ['SIGKILL'] as never })).toThrow(ConfigError);
    expect(() => new Lifecycle({ signals: ['SIGNOPE'] as never })).toThrow(ConfigError);
    expect(() => new Lifecycle({ signals: 'SIGINT' as never })).toThrow(ConfigError);
    expect(() => new Lifecycle({ exit: 'no' as never })).toThrow(ConfigError);
    expect(() => new Lifecycle({ grace: 1 } as never)).toThrow(ConfigError);
    const lc = new Lifecycle({ signals: [], exit: false });
    expect(() => lc.onCleanup('', () => {})).toThrow(ConfigError);
    expect(() => lc.onCleanup('x', () => {}, { timeoutMs: 0 })).toThrow(ConfigError);
    expect(() => lc.track(42 as never)).toThrow(ConfigError);
    lc.dispose();
  });

  it('the deadline also cuts a slow cleanup short, and later hooks do not run', async () => {
    const clock = new VirtualClock();
    const { lc, lines } = libraryLifecycle(clock, {
      graceMs: 0,
      deadlineMs: 1_000,
      cleanupTimeoutMs: 5_000,
    });
    const ran: string[] = [];
    lc.onCleanup('never', () => {
      ran.push('never');
    });
    lc.onCleanup('slow', () => {
      ran.push('slow');
      return clock.sleep(4_000);
    });
    lc.shutdown('test');
    await clock.runAll();
    const report = await lc.done;
    expect(report).toMatchObject({ forced: true, exitCode: 1 });
    expect(ran).toEqual(['slow']);
    expect(lines.at(-1)).toContain('still running: cleanup: slow');
  });
});
