import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TimeoutError, type TimeoutStrategy, timeout } from '../../src/index.js';
import type { ExecuteContext } from '../../src/policies/policy.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

const TIMEOUT_MS = 100;

/** One call: when it starts, how long `fn` takes, how it ends, whether it honours its signal. */
interface Call {
  readonly startAt: number;
  readonly durationMs: number;
  readonly fails: boolean;
  readonly honoursSignal: boolean;
}

const callArb: fc.Arbitrary<Call> = fc.record({
  startAt: fc.integer({ min: 0, max: 300 }),
  // Not exactly at the deadline: there the two timers' order decides, and either is right.
  durationMs: fc.integer({ min: 0, max: 250 }).filter((ms) => ms !== TIMEOUT_MS),
  fails: fc.boolean(),
  honoursSignal: fc.boolean(),
});

type Outcome = { value: string } | { timedOutWithCause: unknown } | { error: unknown };

/** What the caller must see, from the call alone (the model). */
function expected(call: Call, index: number, strategy: TimeoutStrategy): Outcome {
  const late = call.durationMs > TIMEOUT_MS;
  const own: Outcome = call.fails ? { error: `failure ${index}` } : { value: `value ${index}` };
  if (!late) return own;
  if (strategy === 'aggressive' || call.honoursSignal) return { timedOutWithCause: 'any' };
  return call.fails ? { timedOutWithCause: `failure ${index}` } : own;
}

/**
 * Whatever the interleaving of starts, deadlines and outcomes, every caller must get its own outcome, every function its own
 * context, and a signal must abort exactly when its call passed the deadline unsettled.
 */
describe('timeout against a model of its outcomes', () => {
  for (const strategy of ['cooperative', 'aggressive'] as const) {
    it(`${strategy}: each caller gets the outcome of its own call, and only late calls see an abort`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 40 }), async (calls) => {
          const clock = new VirtualClock();
          const policy = timeout({ timeoutMs: TIMEOUT_MS, strategy, clock });
          const outcomes: (Outcome | undefined)[] = calls.map(() => undefined);
          const contexts = new Set<ExecuteContext>();
          const abortedAtSettle: boolean[] = [];
          const order = calls
            .map((call, index) => ({ call, index }))
            .sort((a, b) => a.call.startAt - b.call.startAt);
          const pending: Promise<void>[] = [];
          let now = 0;
          for (const { call, index } of order) {
            await clock.advance(call.startAt - now);
            now = call.startAt;
            const work = (context: ExecuteContext) => {
              expect(contexts.has(context)).toBe(false); // never a context another call had
              contexts.add(context);
              const signal = call.honoursSignal ? context.signal : undefined;
              return new Promise<string>((resolve, reject) => {
                const end = () => {
                  abortedAtSettle[index] = context.signal.aborted;
                  if (call.fails) reject(`failure ${index}`);
                  else resolve(`value ${index}`);
                };
                const cancel = clock.schedule(call.durationMs, end);
                signal?.addEventListener('abort', () => {
                  cancel();
                  abortedAtSettle[index] = true;
                  reject(signal.reason);
                });
              });
            };
            pending.push(
              policy.execute(work).then(
                (value) => {
                  outcomes[index] = { value };
                },
                (error: unknown) => {
                  outcomes[index] =
                    error instanceof TimeoutError ? { timedOutWithCause: error.cause } : { error };
                },
              ),
            );
          }
          await clock.advance(1_000);
          await Promise.all(pending);

          calls.forEach((call, index) => {
            const want = expected(call, index, strategy);
            const got = outcomes[index]!;
            if ('timedOutWithCause' in want && want.timedOutWithCause === 'any') {
              expect(got).toHaveProperty('timedOutWithCause');
            } else {
              expect(got).toEqual(want);
            }
            // The signal aborts at the deadline, and only for a call still running then.
            expect(abortedAtSettle[index]).toBe(call.durationMs > TIMEOUT_MS);
          });
          expect(policy.stats().timeouts).toBe(
            calls.filter((c) => c.durationMs > TIMEOUT_MS).length,
          );
        }),
        { numRuns: 150 },
      );
    });
  }
});
