import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { HealthMonitor } from '../../src/health/health-monitor.js';
import { type PollResult, poll } from '../../src/health/poll.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });

describe('poll', () => {
  it('runs at once, then every interval, with callbacks; stops on abort with no timer left', async () => {
    const clock = new VirtualClock();
    const controller = new AbortController();
    const seen: { at: number; value: number }[] = [];
    let n = 0;
    const poller = poll(() => ++n, {
      intervalMs: 1_000,
      clock,
      signal: controller.signal,
      onResult: (r) => {
        if (r.ok) seen.push({ at: r.at, value: r.value });
      },
    });
    await clock.advance(3_500);
    expect(seen).toEqual([
      { at: 0, value: 1 },
      { at: 1_000, value: 2 },
      { at: 2_000, value: 3 },
      { at: 3_000, value: 4 },
    ]);
    expect(clock.pendingTimers).toBe(1);
    controller.abort();
    await poller.done;
    expect(poller.stopped).toBe(true);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(seen).toHaveLength(4);
  });

  it('follows the monitor: backoff while failing, interval again after recovery', async () => {
    const clock = new VirtualClock();
    const monitor = new HealthMonitor({ clock, intervalMs: 1_000 });
    const outcomes = [false, false, false, false, false, true, true, true, true, true, true];
    const results: PollResult<string>[] = [];
    const poller = poll(
      ({ attempt }) => {
        if (outcomes[attempt - 1] === false) throw reset();
        return 'ok';
      },
      { monitor, clock, onResult: (r) => results.push(r) },
    );
    while (results.length < outcomes.length) await clock.next();
    poller.stop();
    await poller.done;
    const gaps = results.slice(1).map((r, i) => r.at - results[i]!.at);
    expect(gaps).toEqual([1_000, 1_000, 10_000, 20_000, 40_000, 1_000, 1_000, 1_000, 1_000, 1_000]);
    expect(results.map((r) => r.mode)).toEqual([
      ...Array(2).fill('healthy'),
      ...Array(7).fill('failing'),
      'healthy',
      'healthy',
    ]);
    const failed = results.find((r) => !r.ok);
    expect(failed?.ok === false && failed.fault.category).toBe('network');
    expect(clock.pendingTimers).toBe(0);
  });

  it('for await yields results; leaving the loop stops the poll', async () => {
    const clock = new VirtualClock();
    let n = 0;
    const poller = poll(() => ++n, { intervalMs: 500, clock });
    const values: number[] = [];
    const consume = (async () => {
      for await (const result of poller) {
        if (result.ok) values.push(result.value);
        if (values.length === 3) break;
      }
    })();
    while (values.length < 3) await clock.next();
    await consume;
    await poller.done;
    expect(values).toEqual([1, 2, 3]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('aborts a running check and ends iterators when stopped mid-check', async () => {
    const clock = new VirtualClock();
    let checkSignal: AbortSignal | undefined;
    const poller = poll(
      ({ signal }) =>
        new Promise<number>((_, reject) => {
          checkSignal = signal;
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
      { intervalMs: 500, clock },
    );
    const iterator = poller[Symbol.asyncIterator]();
    const next = iterator.next();
    await clock.advance(0);
    expect(checkSignal?.aborted).toBe(false);
    poller.stop();
    expect(checkSignal?.aborted).toBe(true);
    await expect(next).resolves.toEqual({ done: true, value: undefined });
    await poller.done;
    expect(clock.pendingTimers).toBe(0);
  });

  it('without a monitor, a Retry-After longer than the interval is honoured', async () => {
    const clock = new VirtualClock();
    const at: number[] = [];
    const poller = poll(
      ({ attempt }) => {
        at.push(clock.now());
        if (attempt === 1)
          throw Object.assign(new Error('HTTP 429'), {
            status: 429,
            headers: { 'retry-after': '90' },
          });
        return attempt;
      },
      { intervalMs: 10_000, clock },
    );
    await clock.advance(100_000);
    poller.stop();
    await poller.done;
    expect(at).toEqual([0, 90_000, 100_000]);
  });

  it('an already aborted signal never runs the check', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const poller = poll(() => calls++, { intervalMs: 1, clock, signal: AbortSignal.abort() });
    await poller.done;
    expect(calls).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects bad options with ConfigError', () => {
    expect(() => poll(() => 1, {})).toThrow(ConfigError);
    expect(() => poll(() => 1, { intervalMs: 0 })).toThrow(ConfigError);
    expect(() => poll(() => 1, { intervalMs: 10, monitor: {} as never })).toThrow(ConfigError);
    expect(() => poll('x' as never, { intervalMs: 10 })).toThrow(ConfigError);
    expect(() => poll(() => 1, { intervalMs: 10, every: 5 } as never)).toThrow(ConfigError);
  });

  it('property: whatever the outcomes and the stop time, checks follow the monitor and no timer is left', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 3_000_000 }),
        async (outcomes, stopAt) => {
          const clock = new VirtualClock();
          const monitor = new HealthMonitor({ clock, intervalMs: 30_000 });
          const times: number[] = [];
          const expectedGaps: number[] = [];
          const poller = poll(
            ({ attempt }) => {
              times.push(clock.now());
              if (outcomes[(attempt - 1) % outcomes.length] === false) throw reset();
              return attempt;
            },
            { monitor, clock, onResult: (r) => expectedGaps.push(r.nextDelayMs) },
          );
          await clock.advance(stopAt);
          poller.stop();
          await poller.done;
          expect(clock.pendingTimers).toBe(0);
          // Each check ran exactly the announced delay after the previous one.
          for (let i = 1; i < times.length; i++)
            expect(times[i]! - times[i - 1]!).toBe(expectedGaps[i - 1]);
          expect(times.at(-1)!).toBeLessThanOrEqual(stopAt);
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('poll keepAlive', () => {
  it('keepAlive: true keeps a process alive until the poll is stopped; the default lets it exit', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const { TSX } = await import('../cli/run-cli.js');
    const pollModule = fileURLToPath(new URL('../../src/health/poll.ts', import.meta.url));
    // Counts checks for 300 ms of real time, then stops; with keepAlive false the process exits after the first check.
    const script = (keepAlive: boolean) => `
      const { poll } = await import(${JSON.stringify(pollModule)});
      let checks = 0;
      const poller = poll(() => { checks++; }, { intervalMs: 50, keepAlive: ${keepAlive} });
      process.on('exit', () => console.log('checks=' + checks));
      ${keepAlive ? 'setTimeout(() => poller.stop(), 300).unref();' : ''}
    `;
    const run = (keepAlive: boolean) =>
      spawnSync(
        process.execPath,
        ['--import', TSX, '--input-type=module', '-e', script(keepAlive)],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const alive = run(true);
    expect(alive.status, alive.stderr).toBe(0);
    expect(Number(/checks=(\d+)/.exec(alive.stdout)?.[1])).toBeGreaterThan(2);
    const background = run(false);
    expect(background.status, background.stderr).toBe(0);
    expect(background.stdout.trim()).toBe('checks=1');
  }, 60_000);
});
