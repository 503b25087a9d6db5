import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import {
  adaptive,
  bulkhead,
  circuitBreaker,
  fallback,
  type ExecuteOptions,
  hedge,
  type Operation,
  type PolicyStats,
  pipeline,
  rateLimiter,
  retry,
  timeout,
} from '../../src/index.js';
import { chaos, VirtualClock } from '../../src/testing/index.js';

interface AnyPolicy {
  execute(fn: Operation<unknown>, options?: ExecuteOptions): Promise<unknown>;
  stats(): PolicyStats;
}

/** Every policy, and a pipeline, as a user builds them; each on its own virtual clock. */
const POLICIES: Record<string, () => AnyPolicy> = {
  retry: () => retry({ clock: new VirtualClock() }),
  'timeout (cooperative)': () => timeout({ timeoutMs: 1000, clock: new VirtualClock() }),
  'timeout (aggressive)': () =>
    timeout({ timeoutMs: 1000, strategy: 'aggressive', clock: new VirtualClock() }),
  circuitBreaker: () => circuitBreaker({ clock: new VirtualClock() }),
  bulkhead: () => bulkhead({ maxConcurrent: 1 }),
  rateLimiter: () => rateLimiter({ rate: 1, burst: 10, clock: new VirtualClock() }),
  fallback: () => fallback({ value: 0 }),
  hedge: () => hedge({ delayMs: 10, clock: new VirtualClock() }),
  adaptive: () => adaptive({ clock: new VirtualClock() }),
  chaos: () => chaos({ clock: new VirtualClock() }),
  pipeline: () =>
    pipeline(
      retry({ clock: new VirtualClock() }),
      timeout({ timeoutMs: 1000, clock: new VirtualClock() }),
    ),
};

/** Calls `execute` and returns what it rejected with; fails if it threw synchronously or resolved. */
async function refusal(run: () => Promise<unknown>): Promise<unknown> {
  let pending: Promise<unknown>;
  try {
    pending = run();
  } catch (error) {
    throw new Error(`execute threw synchronously instead of rejecting: ${String(error)}`);
  }
  try {
    await pending;
  } catch (error) {
    return error;
  }
  throw new Error('execute resolved; it should have refused the call');
}

function configErrorFor(error: unknown, option: string): void {
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).option).toBe(option);
}

describe.each(Object.entries(POLICIES))('%s: the door of execute', (_name, make) => {
  it('refuses something that is not a function (a promise: execute(fetch(url))) with a ConfigError, before any attempt', async () => {
    const policy = make();
    for (const notAFunction of [undefined, null, 42, 'fetch', Promise.resolve(1)]) {
      configErrorFor(await refusal(() => policy.execute(notAFunction as never)), 'fn');
    }
    const slip = await refusal(() => policy.execute(Promise.resolve('already running') as never));
    expect((slip as Error).message).toContain('not a promise of work already running');
    expect(policy.stats().executions).toBe(0);
  });

  it('refuses malformed options, naming the option, without calling fn', async () => {
    const policy = make();
    let calls = 0;
    const work = async () => ++calls;
    const cases: [unknown, string][] = [
      [null, 'options'],
      ['fast', 'options'],
      [[], 'options'],
      [{ signl: new AbortController().signal }, 'options.signl'],
      [{ signal: 'soon' }, 'options.signal'],
      [{ signal: { aborted: false } }, 'options.signal'],
      [{ operation: '' }, 'options.operation'],
      [{ operation: { attributes: {} } }, 'options.operation'],
      [{ operation: { name: 'x', attributes: 'id=1' } }, 'options.operation'],
    ];
    for (const [options, option] of cases) {
      configErrorFor(await refusal(() => policy.execute(work, options as never)), option);
    }
    expect(calls).toBe(0);
    expect(policy.stats().executions).toBe(0);
  });

  it('does not start a call whose signal has already aborted: it rejects with the reason', async () => {
    const policy = make();
    const reason = new Error('the caller gave up');
    let calls = 0;
    expect(
      await refusal(() =>
        policy.execute(async () => ++calls, { signal: AbortSignal.abort(reason) }),
      ),
    ).toBe(reason);
    expect(calls).toBe(0);
    expect(policy.stats().executions).toBe(0);
  });

  it('runs calls with well-formed options, including a signal from another realm', async () => {
    const policy = make();
    const foreignSignal = {
      aborted: false,
      reason: undefined,
      addEventListener() {},
      removeEventListener() {},
    };
    const operation = { name: 'download', attributes: { id: 7 } };
    await expect(
      policy.execute(async () => 'ok', { signal: foreignSignal as never, operation }),
    ).resolves.toBe('ok');
    await expect(
      policy.execute(async () => 'ok', {
        signal: new AbortController().signal,
        operation: 'download',
      }),
    ).resolves.toBe('ok');
    await expect(policy.execute(async () => 'ok', {})).resolves.toBe('ok');
    await expect(policy.execute(async () => 'ok')).resolves.toBe('ok');
    expect(policy.stats().executions).toBe(4);
  });
});

describe('the door and contexts handed down by outer layers', () => {
  it('passes them on without reading their signal, so a timeout builds no AbortController for a function that ignores it', async () => {
    const clock = new VirtualClock();
    const deadline = timeout({ timeoutMs: 100, clock });
    const seen: boolean[] = [];
    deadline.events.on('timeout', (event) => seen.push(event.signalRead));
    const layers = pipeline(
      deadline,
      bulkhead({ maxConcurrent: 1 }),
      circuitBreaker({ clock }),
      retry({ clock }),
      fallback({ value: 'stale' }),
      rateLimiter({ rate: 1, burst: 10, clock }),
      adaptive({ clock }),
    );
    let release!: () => void;
    const call = layers.execute(
      () => new Promise<string>((resolve) => (release = () => resolve('late'))),
    );
    await clock.advance(100);
    expect(seen).toEqual([false]);
    release();
    await expect(call).resolves.toBe('late');
  });
});

describe.each(Object.entries(POLICIES))(
  '%s: a context passed by hand goes through the door too',
  (_name, make) => {
    it('an already-aborted context signal refuses the call without running fn', async () => {
      const policy = make();
      const controller = new AbortController();
      const reason = new Error('caller went away');
      controller.abort(reason);
      let ran = 0;
      const error = await refusal(() =>
        policy.execute(() => ran++, { context: { signal: controller.signal, attempt: 1 } }),
      );
      expect(error).toBe(reason);
      expect(ran).toBe(0);
      expect(policy.stats().executions).toBe(0);
    });

    it('a malformed context is a ConfigError naming options.context', async () => {
      const policy = make();
      for (const bad of [
        {},
        { signal: 'x', attempt: 1 },
        { signal: new AbortController().signal, attempt: 0 },
        null,
      ]) {
        configErrorFor(
          await refusal(() => policy.execute(() => 1, { context: bad as never })),
          'options.context',
        );
      }
    });

    it('a live context passes its attempt and operation through', async () => {
      const policy = make();
      const operation = { name: 'op' };
      let seen: unknown;
      await policy.execute(
        (ctx) => {
          seen = ctx.operation;
          return 1;
        },
        { context: { signal: new AbortController().signal, attempt: 1, operation } },
      );
      expect(seen).toEqual(operation);
    });
  },
);
