import { describe, expect, expectTypeOf, it, vi } from 'vitest';
import {
  ConfigError,
  constantBackoff,
  Events,
  type ExecuteOptions,
  fallback,
  type Operation,
  type Policy,
  pipeline,
  RetriesExhaustedError,
  retry,
  TimeoutError,
  timeout,
} from '../../src/index.js';
import { contextFrom } from '../../src/extend/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { networkError } from './helpers.js';

/** A pass-through stage that records the order it was entered in. */
function probe(kind: string, log: string[]): Policy {
  return {
    kind,
    events: new Events(),
    execute<T>(fn: Operation<T>, options?: ExecuteOptions) {
      log.push(kind);
      return Promise.resolve(fn(contextFrom(options)));
    },
    stats: () => ({
      executions: 0,
      successes: 0,
      failures: 0,
      failuresByCategory: {},
      rejections: 0,
      retries: 0,
    }),
    describe: () => `${kind}()`,
  };
}

describe('pipeline', () => {
  it('runs stages outermost first and hands each context inwards', async () => {
    const log: string[] = [];
    const p = pipeline(probe('a', log), probe('b', log), probe('c', log));
    await expect(p.execute(() => 'x')).resolves.toBe('x');
    expect(log).toEqual(['a', 'b', 'c']);
    expect(p.describe()).toBe('1. a()\n2. b()\n3. c()');
  });

  it('retry outside timeout bounds each attempt and carries the operation to the function and the events', async () => {
    const clock = new VirtualClock();
    const r = retry({ clock, maxAttempts: 3, backoff: constantBackoff(10) });
    const t = timeout({ timeoutMs: 100, clock });
    const p = pipeline(r, t);
    const faults: string[] = [];
    r.events.on('retry', (e) => faults.push(`${e.fault.category}@${e.operation?.name}`));
    const seen: unknown[] = [];
    const call = p.execute(
      (ctx) => {
        seen.push([ctx.attempt, ctx.operation?.name]);
        if (ctx.attempt < 3) return clock.sleep(1000, ctx.signal).then(() => 'never');
        return 'third time';
      },
      { operation: { name: 'sync_catalog', attributes: { shop: 7 } } },
    );
    await clock.runAll();
    await expect(call).resolves.toBe('third time');
    expect(seen).toEqual([
      [1, 'sync_catalog'],
      [2, 'sync_catalog'],
      [3, 'sync_catalog'],
    ]);
    expect(faults).toEqual(['timeout@sync_catalog', 'timeout@sync_catalog']);
    expect(t.stats()).toMatchObject({ timeouts: 2 });
    expect(p.stats()).toMatchObject({ executions: 1, successes: 1, retries: 2 });
    expect(p.stats().stages.map((s) => s.kind)).toEqual(['retry', 'timeout']);
  });

  it('widens the result type with a fallback and returns its substitute', async () => {
    const clock = new VirtualClock();
    const p = pipeline(
      fallback({ value: null }),
      retry({ clock, maxAttempts: 2, backoff: constantBackoff(1) }),
    );
    const call = p.execute((): number => {
      throw networkError();
    });
    expectTypeOf(call).toEqualTypeOf<Promise<number | null>>();
    await clock.runAll();
    await expect(call).resolves.toBeNull();
  });

  it('lets errors through unchanged when nothing handles them', async () => {
    const clock = new VirtualClock();
    const p = pipeline(
      retry({ clock, maxAttempts: 2, backoff: constantBackoff(1) }),
      timeout({ timeoutMs: 5, clock, strategy: 'aggressive' }),
    );
    const caught = p.execute(() => new Promise(() => {})).catch((e: unknown) => e);
    await clock.runAll();
    const error = (await caught) as RetriesExhaustedError;
    expect(error).toBeInstanceOf(RetriesExhaustedError);
    expect(error.cause).toBeInstanceOf(TimeoutError);
  });

  it('warns once about a breaker or a timeout outside a retry', () => {
    const warn = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    try {
      const log: string[] = [];
      const first = pipeline(probe('circuitBreaker', log), probe('timeout', log), retry());
      expect(first.warnings).toHaveLength(2);
      expect(first.warnings[0]).toMatch(/circuitBreaker outside retry/);
      expect(first.warnings[1]).toMatch(/timeout outside retry/);
      pipeline(probe('circuitBreaker', log), retry());
      expect(warn).toHaveBeenCalledTimes(2);
      const good = pipeline(retry(), probe('circuitBreaker', log), probe('timeout', log));
      expect(good.warnings).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  });

  it('flattens nested pipelines', () => {
    const log: string[] = [];
    const inner = pipeline(probe('b', log), probe('c', log));
    expect(pipeline(probe('a', log), inner).stages.map((s) => s.kind)).toEqual(['a', 'b', 'c']);
  });

  it('rejects what is not a policy', () => {
    expect(() => pipeline()).toThrow(ConfigError);
    expect(() => pipeline({} as never)).toThrow(ConfigError);
    expect(() => pipeline(retry(), (() => 1) as never)).toThrow(/pipeline\[1\]/);
  });
});
