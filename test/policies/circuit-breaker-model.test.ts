import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrokenCircuitError } from '../../src/faults/errors.js';
import { circuitBreaker } from '../../src/policies/circuit-breaker.js';
import { exponentialBackoff } from '../../src/recovery/backoff.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';

/**
 * The breaker against a model of its state machine written as plainly as possible:
 * consecutive trigger, one probe, a half-open time that doubles with each failed probe.
 */
type Command =
  | { readonly type: 'call'; readonly result: 'success' | 'failure' | 'ignored' }
  | { readonly type: 'advance'; readonly ms: number };

interface Model {
  state: 'closed' | 'open' | 'halfOpen';
  failures: number;
  openUntil: number;
  opens: number;
}

const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    type: fc.constant('call' as const),
    result: fc.constantFrom('success' as const, 'failure' as const, 'ignored' as const),
  }),
  // Steps that land exactly on open-time boundaries, and arbitrary ones.
  fc.record({
    type: fc.constant('advance' as const),
    ms: fc.oneof(
      fc.constantFrom(0, 1, 125, 250, 500, 1_000, 2_000),
      fc.integer({ min: 0, max: 3_000 }),
    ),
  }),
);

function openFor(opens: number): number {
  return Math.min(2_000, 250 * 2 ** (opens - 1));
}

describe('circuitBreaker: model-based (fast-check)', () => {
  it('behaves as the model for any sequence of successes, failures, ignored faults and time steps', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(command, { minLength: 1, maxLength: 80 }),
        async (threshold, commands) => {
          const clock = new VirtualClock();
          const breaker = circuitBreaker({
            clock,
            trigger: { kind: 'consecutive', failures: threshold },
            halfOpenAfter: exponentialBackoff({
              initialMs: 250,
              factor: 2,
              maxDelayMs: 2_000,
              jitter: 'none',
            }),
          });
          const model: Model = { state: 'closed', failures: 0, openUntil: 0, opens: 0 };
          let rejections = 0;
          for (const cmd of commands) {
            if (cmd.type === 'advance') {
              await clock.advance(cmd.ms);
            } else {
              const now = clock.now();
              let expectRejection = false;
              if (model.state === 'open' && now < model.openUntil) expectRejection = true;
              else if (model.state === 'open') model.state = 'halfOpen';

              const thrown = new Error(cmd.result);
              Object.assign(thrown, { status: cmd.result === 'ignored' ? 404 : 503 });
              let error: unknown;
              try {
                await breaker.execute(() => {
                  if (cmd.result !== 'success') throw thrown;
                  return 1;
                });
              } catch (e) {
                error = e;
              }
              if (expectRejection) {
                rejections++;
                expect(error).toBeInstanceOf(BrokenCircuitError);
                expect((error as BrokenCircuitError).retryAfterMs).toBe(
                  Math.ceil(model.openUntil - now),
                );
                continue;
              }
              expect(error).toBe(cmd.result === 'success' ? undefined : thrown);
              if (model.state === 'closed') {
                if (cmd.result === 'success') model.failures = 0;
                else if (cmd.result === 'failure' && ++model.failures >= threshold) {
                  model.opens++;
                  model.state = 'open';
                  model.openUntil = now + openFor(model.opens);
                  model.failures = 0;
                }
              } else if (model.state === 'halfOpen') {
                if (cmd.result === 'success') {
                  model.state = 'closed';
                  model.opens = 0;
                  model.failures = 0;
                } else if (cmd.result === 'failure') {
                  model.opens++;
                  model.state = 'open';
                  model.openUntil = now + openFor(model.opens);
                }
              }
            }
            const visible =
              model.state === 'open' && clock.now() >= model.openUntil ? 'halfOpen' : model.state;
            expect(breaker.state).toBe(visible);
            expect(breaker.remainingOpenMs()).toBe(
              model.state === 'open' ? Math.max(0, model.openUntil - clock.now()) : 0,
            );
          }
          expect(breaker.stats().rejections).toBe(rejections);
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('circuitBreaker: count window against a model (fast-check)', () => {
  it('opens exactly when the last `size` counted outcomes reach the failure rate', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(fc.constantFrom('success' as const, 'failure' as const, 'ignored' as const), {
          minLength: 1,
          maxLength: 60,
        }),
        async (size, rateTenths, results) => {
          const failureRate = rateTenths / 10;
          const minimumThroughput = Math.max(1, Math.ceil(size / 2));
          const clock = new VirtualClock();
          const breaker = circuitBreaker({
            clock,
            trigger: { kind: 'countWindow', size, failureRate, minimumThroughput },
            halfOpenAfter: 1_000,
          });
          const window: boolean[] = []; // true = failure, newest last
          let open = false;
          for (const result of results) {
            const error = Object.assign(new Error(result), {
              status: result === 'ignored' ? 404 : 503,
            });
            const outcome = await breaker
              .execute(() => {
                if (result !== 'success') throw error;
                return 1;
              })
              .catch((e: unknown) => e);
            if (open) {
              expect(outcome).toBeInstanceOf(BrokenCircuitError);
              continue;
            }
            expect(outcome).toBe(result === 'success' ? 1 : error);
            if (result === 'ignored') continue;
            window.push(result === 'failure');
            if (window.length > size) window.shift();
            const failures = window.filter(Boolean).length;
            if (window.length >= minimumThroughput && failures / window.length >= failureRate)
              open = true;
            expect(breaker.state).toBe(open ? 'open' : 'closed');
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
