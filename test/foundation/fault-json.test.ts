import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/faults/classify.js';

/** Values a handler might throw whose JSON form used to throw (BigInt, cycles) or worse. */
function hostileCauses(): [string, unknown][] {
  const cyclic = new Error('outer') as Error & { cause?: unknown };
  cyclic.cause = cyclic;
  const withBigInt = Object.assign(new Error('big'), { amount: 10n });
  const getterThrows = new Error('getter');
  Object.defineProperty(getterThrows, 'detail', {
    enumerable: true,
    get: () => {
      throw new Error('no');
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  const trap = new Proxy(
    {},
    {
      getPrototypeOf() {
        throw new Error('trap');
      },
      get() {
        throw new Error('trap');
      },
      ownKeys() {
        throw new Error('trap');
      },
    },
  );
  const cycleInObject: Record<string, unknown> = { message: 'obj' };
  cycleInObject.self = cycleInObject;
  return [
    ['a BigInt', 12n],
    ['an error with a BigInt field', withBigInt],
    ['a cyclic cause', cyclic],
    ['a throwing getter', getterThrows],
    ['a revoked proxy', revoked.proxy],
    ['a proxy whose traps throw', trap],
    ['an object holding itself', cycleInObject],
    ['a symbol', Symbol('s')],
  ];
}

describe('JSON.stringify(fault)', () => {
  it.each(hostileCauses())('never throws for %s', (_label, value) => {
    const fault = classify(value);
    const text = JSON.stringify(fault);
    const parsed = JSON.parse(text) as Record<string, unknown>;
    expect(parsed.category).toBe(fault.category);
    expect(parsed.retryable).toBe(fault.retryable);
    expect(parsed.source).toBe(fault.source);
  });

  it('keeps the readable parts of a cause chain and marks a cycle', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'ECONNREFUSED',
    });
    const outer = new Error('fetch failed', { cause: inner }) as Error & { cause: unknown };
    (inner as Error & { cause?: unknown }).cause = outer;
    const json = JSON.parse(JSON.stringify(classify(outer)));
    expect(json.cause).toEqual({
      name: 'Error',
      message: 'fetch failed',
      cause: {
        name: 'Error',
        message: 'connect ECONNREFUSED 127.0.0.1:9',
        code: 'ECONNREFUSED',
        cause: '(circular)',
      },
    });
  });

  it('leaves a driver error’s enumerable fields (command arguments) out', () => {
    const error = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      name: 'ReplyError',
      command: { name: 'auth', args: ['user', 'hunter2-secret'] },
    });
    const text = JSON.stringify(classify(error));
    expect(text).not.toContain('hunter2-secret');
    expect(text).toContain('WRONGPASS');
  });

  it('never throws for any value fast-check can make, nested as a cause', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withSparseArray: true,
          withBoxedValues: true,
        }),
        (value) => {
          const wrapped = new Error('wrapper', { cause: value });
          expect(() => JSON.stringify(classify(value))).not.toThrow();
          expect(() => JSON.stringify(classify(wrapped))).not.toThrow();
        },
      ),
      { numRuns: 300 },
    );
  });
});
