import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, fallback } from '../../src/index.js';
import { httpError, networkError } from './helpers.js';

describe('fallback', () => {
  it('returns the value when the call fails, and the result when it does not', async () => {
    const policy = fallback({ value: 'placeholder' });
    const ok = await policy.execute(() => 42);
    expectTypeOf(ok).toEqualTypeOf<number | string>();
    expect(ok).toBe(42);
    await expect(policy.execute(() => Promise.reject(networkError()))).resolves.toBe('placeholder');
    expect(policy.stats()).toMatchObject({
      executions: 2,
      successes: 1,
      failures: 1,
      fallbacks: 1,
      failuresByCategory: { network: 1 },
    });
  });

  it('computes the substitute from the fault, only for the chosen categories', async () => {
    const policy = fallback({
      handler: (fault) => `stale copy (${fault.category})`,
      categories: ['network', 'unavailable'],
    });
    const seen: string[] = [];
    policy.events.on('fallback', (e) => seen.push(`${e.fault.category}:${e.operation?.name}`));
    await expect(
      policy.execute(() => Promise.reject(httpError(503)), { operation: 'render_page' }),
    ).resolves.toBe('stale copy (unavailable)');
    const notFound = httpError(404);
    await expect(policy.execute(() => Promise.reject(notFound))).rejects.toBe(notFound);
    expect(seen).toEqual(['unavailable:render_page']);
  });

  it('never replaces a call the caller aborted', async () => {
    const policy = fallback({ value: 0 });
    const caller = new AbortController();
    const reason = new Error('shutting down');
    caller.abort(reason);
    await expect(
      policy.execute((ctx) => Promise.reject(ctx.signal.reason), { signal: caller.signal }),
    ).rejects.toBe(reason);
  });

  it('validates its options', () => {
    for (const options of [
      {},
      { value: 1, handler: () => 2 },
      { handler: 3 },
      { value: 1, categories: ['nope'] },
      { value: 1, categories: 'network' },
      { value: 1, when: 2 },
    ]) {
      expect(() => fallback(options as never), JSON.stringify(options)).toThrow(ConfigError);
    }
    expect(fallback({ value: 1, categories: ['network'] }).describe()).toBe('fallback(network)');
  });
});
