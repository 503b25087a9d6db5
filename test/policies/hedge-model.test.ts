import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify, hedge } from '../../src/index.js';
import type { ExecuteContext } from '../../src/policies/policy.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { httpError, networkError } from './helpers.js';

const DELAY_MS = 100;

/** How one attempt ends: a value, or a fault the default plan retries (network, 503) or not (400, 401, 429). */
type Ending = 'ok' | 'network' | '503' | '400' | '401' | '429';
const RETRIED: ReadonlySet<Ending> = new Set(['network', '503']);

interface AttemptScript {
  readonly durationMs: number;
  readonly ending: Ending;
  readonly honoursSignal: boolean;
}

interface CallScript {
  readonly startAt: number;
  readonly maxHedges: number;
  /** Attempt n of the call behaves as attempts[n % length]. */
  readonly attempts: readonly AttemptScript[];
  /** The caller aborts this long after the start, if set. */
  readonly abortAfterMs: number | undefined;
}

const attemptArb: fc.Arbitrary<AttemptScript> = fc.record({
  durationMs: fc.integer({ min: 0, max: 400 }),
  ending: fc.constantFrom<Ending>('ok', 'ok', 'network', '503', '400', '401', '429'),
  honoursSignal: fc.boolean(),
});

const callArb: fc.Arbitrary<CallScript> = fc.record({
  startAt: fc.integer({ min: 0, max: 300 }),
  maxHedges: fc.integer({ min: 1, max: 3 }),
  attempts: fc.array(attemptArb, { minLength: 1, maxLength: 4 }),
  abortAfterMs: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
});

function errorFor(ending: Exclude<Ending, 'ok'>, label: string): Error {
  const error = ending === 'network' ? networkError() : httpError(Number(ending));
  error.message = `${label}: ${ending}`;
  return error;
}

interface AttemptLog {
  readonly index: number;
  readonly launchedAt: number;
  readonly signal: AbortSignal;
  ended?: { at: number; ending: Ending | 'aborted' };
}

interface CallLog {
  readonly attempts: AttemptLog[];
  outcomes: { at: number; value?: unknown; error?: unknown }[];
  settledAt?: number;
}

/**
 * Hedged calls interleaved on one policy: random durations, outcomes and fault kinds, callers
 * that abort. Every caller gets exactly one outcome, losers are aborted, no attempt starts after
 * a fault the plan would not retry (or after the call settled), and the stats add up.
 */
describe('hedge against a model of its attempts', () => {
  it('one outcome per caller, losers aborted, hedges only on retried faults, stats that add up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(callArb, { minLength: 1, maxLength: 12 }), async (calls) => {
        const clock = new VirtualClock();
        // One policy per maxHedges value, shared by the calls that use it (interleaved runs).
        const policies = new Map(
          [1, 2, 3].map((n) => [n, hedge({ delayMs: DELAY_MS, maxHedges: n, clock })]),
        );
        const hedgeEvents = new Map<number, number>([...policies.keys()].map((n) => [n, 0]));
        for (const [n, policy] of policies)
          policy.events.on('hedge', () => hedgeEvents.set(n, hedgeEvents.get(n)! + 1));
        const logs: CallLog[] = calls.map(() => ({ attempts: [], outcomes: [] }));
        const order = calls
          .map((call, index) => ({ call, index }))
          .sort((a, b) => a.call.startAt - b.call.startAt);
        let now = 0;
        for (const { call, index } of order) {
          await clock.advance(call.startAt - now);
          now = call.startAt;
          const log = logs[index]!;
          const controller = new AbortController();
          if (call.abortAfterMs !== undefined)
            clock.schedule(call.abortAfterMs, () =>
              controller.abort(new Error(`caller ${index} aborted`)),
            );
          const attempt = async (context: ExecuteContext) => {
            const n = log.attempts.length;
            const script = call.attempts[n % call.attempts.length]!;
            const entry: AttemptLog = { index: n, launchedAt: clock.now(), signal: context.signal };
            log.attempts.push(entry);
            try {
              await clock.sleep(
                script.durationMs,
                script.honoursSignal ? context.signal : undefined,
              );
            } catch (reason) {
              entry.ended = { at: clock.now(), ending: 'aborted' };
              throw reason;
            }
            entry.ended = { at: clock.now(), ending: script.ending };
            if (script.ending === 'ok') return `call ${index} attempt ${n}`;
            throw errorFor(script.ending, `call ${index} attempt ${n}`);
          };
          policies
            .get(call.maxHedges)!
            .execute(attempt, { signal: controller.signal })
            .then(
              (value) => log.outcomes.push({ at: clock.now(), value }),
              (error: unknown) => log.outcomes.push({ at: clock.now(), error }),
            );
        }
        await clock.runAll();
        await clock.advance(10_000);

        calls.forEach((call, index) => {
          const log = logs[index]!;
          // One outcome, never two, never none.
          expect(log.outcomes).toHaveLength(1);
          const outcome = log.outcomes[0]!;
          const { attempts } = log;
          expect(attempts.length).toBeGreaterThanOrEqual(1);
          expect(attempts.length).toBeLessThanOrEqual(1 + call.maxHedges);
          // Nothing starts after the call settled.
          for (const a of attempts) expect(a.launchedAt).toBeLessThanOrEqual(outcome.at);
          // Losers are aborted: every attempt not finished when the call settled has an aborted signal.
          for (const a of attempts) {
            const finishedFirst =
              a.ended !== undefined && a.ended.at <= outcome.at && a.ended.ending !== 'aborted';
            if (!finishedFirst) expect(a.signal.aborted).toBe(true);
          }
          // No attempt launched after a fault the plan would not retry.
          const firstRefused = attempts
            .filter(
              (a) =>
                a.ended !== undefined &&
                a.ended.ending !== 'ok' &&
                a.ended.ending !== 'aborted' &&
                !RETRIED.has(a.ended.ending),
            )
            .map((a) => a.ended!.at)
            .sort((x, y) => x - y)[0];
          if (firstRefused !== undefined) {
            for (const a of attempts) expect(a.launchedAt).toBeLessThanOrEqual(firstRefused);
          }
          if ('value' in outcome && outcome.error === undefined) {
            // The value is that of the first attempt to succeed.
            const winners = attempts
              .filter((a) => a.ended?.ending === 'ok')
              .sort((x, y) => x.ended!.at - y.ended!.at);
            expect(winners.length).toBeGreaterThan(0);
            expect(outcome.value).toMatch(new RegExp(`^call ${index} attempt \\d+$`));
            const winner = attempts[Number(String(outcome.value).split(' ').pop())]!;
            expect(winner.ended?.ending).toBe('ok');
            expect(winner.ended!.at).toBe(winners[0]!.ended!.at);
          } else {
            // A failure: the caller aborted, a fault the plan would not retry ended it, or every attempt failed.
            const error = outcome.error;
            const aborted =
              call.abortAfterMs !== undefined && call.abortAfterMs <= outcome.at - call.startAt;
            const category = classify(error).category;
            const refused = firstRefused !== undefined && firstRefused === outcome.at;
            const allFailed = attempts.every(
              (a) => a.ended !== undefined && a.ended.ending !== 'ok' && a.ended.at <= outcome.at,
            );
            expect(
              aborted || refused || allFailed,
              `call ${index} failed with ${String(error)} (${category})`,
            ).toBe(true);
          }
        });

        // Stats add up, per policy.
        for (const [n, policy] of policies) {
          const mine = calls
            .map((call, index) => ({ call, log: logs[index]! }))
            .filter(({ call }) => call.maxHedges === n);
          const stats = policy.stats();
          const launched = mine.reduce((sum, { log }) => sum + log.attempts.length, 0);
          expect(stats.executions).toBe(mine.length);
          expect(stats.successes + stats.failures).toBe(mine.length);
          expect(stats.successes).toBe(
            mine.filter(
              ({ log }) => log.outcomes[0]!.error === undefined && 'value' in log.outcomes[0]!,
            ).length,
          );
          expect(stats.retries).toBe(launched - mine.length);
          expect(hedgeEvents.get(n)).toBe(stats.retries);
        }
        expect(clock.pendingTimers).toBe(0);
      }),
      { numRuns: 150 },
    );
  });
});
