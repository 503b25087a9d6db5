/**
 * Property tests (fast-check): classify never throws and always returns a well-formed Fault,
 * whatever is thrown; every backoff delay lies within its bounds for any attempt and seed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createClassifier, type Fault, isFaultCategory } from '../../src/faults/index.js';
import { classify } from '../../src/faults/index.js';
import {
  type Backoff,
  constantBackoff,
  exponentialBackoff,
  linearBackoff,
  recoveryPlan,
  seededRandom,
} from '../../src/recovery/index.js';
import { FAULT_CATEGORIES } from '../../src/faults/index.js';

const RUNS = 10_000;
/** Generous: 10,000 runs must finish on a loaded 2-core CI machine too. */
const TIMEOUT = 180_000;

/**
 * Throws a descriptive error when a fault is not well-formed. Plain checks rather than `expect`:
 * this runs tens of thousands of times and must stay fast on a loaded CI machine.
 */
function expectWellFormed(fault: Fault, input: unknown): void {
  const problems: string[] = [];
  if (!isFaultCategory(fault.category)) problems.push(`category ${String(fault.category)}`);
  if (typeof fault.retryable !== 'boolean') problems.push('retryable is not a boolean');
  const after = fault.retryAfterMs;
  if (after !== undefined && !(Number.isInteger(after) && after >= 0))
    problems.push(`retryAfterMs ${after}`);
  if (fault.status !== undefined && !Number.isInteger(fault.status))
    problems.push(`status ${fault.status}`);
  if (fault.code !== undefined && typeof fault.code !== 'string')
    problems.push('code is not a string');
  if (typeof fault.message !== 'string' || fault.message.length === 0)
    problems.push('empty message');
  if (!Object.is(fault.cause, input)) problems.push('cause is not the input');
  if (!Array.isArray(fault.suggestions) || fault.suggestions.length === 0)
    problems.push('no suggestions');
  else if (!fault.suggestions.every((x) => typeof x === 'string'))
    problems.push('a suggestion is not a string');
  if (typeof fault.source !== 'string') problems.push('source is not a string');
  if (problems.length > 0) throw new Error(`malformed fault: ${problems.join('; ')}`);
}

function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}

const KEYS = [
  'name',
  'message',
  'code',
  'status',
  'statusCode',
  'statusText',
  'response',
  'headers',
  'cause',
  'errors',
  'category',
  'retryable',
  'retryAfterMs',
  'severity',
  '$metadata',
  '$fault',
  '$retryable',
  '$response',
  'httpStatusCode',
  'constructor',
  'get',
  'retry-after',
  'Retry-After',
  'retry-after-ms',
  'x-amz-retry-after',
] as const;

const CODES = [
  'ECONNRESET',
  'ENOSPC',
  'ETIMEDOUT',
  'SQLITE_BUSY',
  'SQLITE_CONSTRAINT_UNIQUE',
  '40001',
  '08006',
  'ABORT_ERR',
  'UND_ERR_SOCKET',
  'EWHATEVER',
];
const NAMES = [
  'Error',
  'TypeError',
  'AbortError',
  'TimeoutError',
  'ReplyError',
  'ErrorReply',
  'DatabaseError',
  'PostgresError',
  'ThrottlingException',
  'NoSuchKey',
  'MaxRetriesPerRequestError',
  'SqliteError',
];

/** Values shaped like the errors classifiers look for, with plausible and implausible field values. */
const fieldValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(
    ...CODES,
    ...NAMES,
    'LOADING x',
    'OOM y',
    'network',
    'rate_limit',
    'server',
    'client',
    'ERROR',
  ),
  fc.integer({ min: -1000, max: 1000 }),
  fc.integer({ min: 399, max: 600 }),
  fc.double(),
  fc.string(),
  fc.constantFrom('120', '1.5', 'Wed, 21 Oct 2015 07:28:00 GMT', '-1', 'NaN', '1e400', ''),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.anything(),
);

const errorLike: fc.Arbitrary<unknown> = fc.letrec<{ node: unknown }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fieldValue, tie('node')), { maxKeys: 6 }),
    fc
      .tuple(
        fc.constantFrom(...NAMES),
        fc.string(),
        fc.dictionary(fc.constantFrom(...KEYS), fc.oneof(fieldValue, tie('node')), { maxKeys: 4 }),
      )
      .map(([name, message, extra]) => Object.assign(new Error(message), { name }, extra)),
    fc.array(tie('node'), { maxLength: 4 }).map((errors) => new AggregateError(errors, 'many')),
    fc
      .integer({ min: 200, max: 599 })
      .map(
        (status) => new Response(null, { status, headers: { 'retry-after': String(status % 7) } }),
      ),
    // Errors that declare their own category, with any values in the other declared fields.
    fc
      .record(
        {
          category: fc.constantFrom(
            'network',
            'timeout',
            'rate_limit',
            'unavailable',
            'auth',
            'permanent',
            'validation',
            'conflict',
            'resource',
            'cancelled',
            'unknown',
          ),
          status: fc.oneof(fc.double(), fc.integer(), fc.string()),
          retryAfterMs: fc.oneof(fc.double(), fc.integer(), fc.string()),
          retryable: fc.anything(),
          code: fc.anything(),
          message: fc.anything(),
        },
        { requiredKeys: ['category'] },
      )
      .map((fields) => Object.assign(new Error(), fields)),
    fieldValue,
  ),
})).node;

/**
 * Objects that fight back: getters that throw, proxies with throwing or revoked traps. They are
 * built inside the property (each arbitrary yields a factory), because fast-check itself inspects
 * generated values and would trip over them first.
 */
const hostile: fc.Arbitrary<() => unknown> = fc.oneof(
  fc.subarray([...KEYS], { minLength: 1 }).map(
    (keys) => () =>
      Object.defineProperties(
        {},
        Object.fromEntries(
          keys.map((k) => [
            k,
            {
              enumerable: true,
              get() {
                throw new Error(`getter ${k}`);
              },
            },
          ]),
        ),
      ),
  ),
  fc
    .subarray(
      ['get', 'has', 'getPrototypeOf', 'ownKeys', 'getOwnPropertyDescriptor', 'apply'] as const,
      { minLength: 1 },
    )
    .map((traps) => () => {
      const handler: ProxyHandler<object> = {};
      for (const trap of traps) {
        (handler as Record<string, unknown>)[trap] = () => {
          throw new Error(`trap ${trap}`);
        };
      }
      return new Proxy(function target() {}, handler);
    }),
  fc.constant(() => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    return proxy;
  }),
  errorLike.map(
    (inner) => () => new Proxy(typeof inner === 'object' && inner !== null ? inner : { inner }, {}),
  ),
);

/** Cause chains that loop back on themselves, at any length. */
const circular: fc.Arbitrary<() => unknown> = fc
  .tuple(fc.integer({ min: 1, max: 40 }), fc.constantFrom(...CODES, undefined))
  .map(([length, code]) => () => {
    const errors = Array.from({ length }, (_, i) => new Error(`link ${i}`));
    for (let i = 0; i < length; i++)
      (errors[i] as { cause?: unknown }).cause = errors[(i + 1) % length];
    if (code !== undefined && length > 1) (errors[length - 1] as { code?: string }).code = code;
    const aggregate = new AggregateError([errors[0], errors[0]], 'loop');
    (errors[0] as { cause?: unknown }).cause = aggregate;
    return errors[0];
  });

describe('classify never throws and returns a well-formed Fault', () => {
  it(
    `for anything fast-check can build (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          fc.anything({
            withBoxedValues: true,
            withMap: true,
            withSet: true,
            withNullPrototype: true,
            withTypedArray: true,
            withSparseArray: true,
            withBigInt: true,
            withDate: true,
          }),
          (value) => {
            expectWellFormed(classify(value), value);
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    `for error-shaped values: HTTP, errno, SQL, Redis, AWS fields with any contents (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(errorLike, (value) => {
          expectWellFormed(classify(value), value);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    `for getters that throw, proxies and circular causes (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(fc.oneof(hostile, circular), (make) => {
          const value = make();
          expectWellFormed(classify(value), value);
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'with a user classifier that returns anything or throws (2,000 runs)',
    () => {
      fc.assert(
        fc.property(
          fc.oneof(
            fieldValue.map((v) => () => v),
            errorLike.map((v) => () => v),
            hostile,
          ),
          fc.boolean(),
          errorLike,
          (makeAnswer, throws, value) => {
            const answer = makeAnswer();
            const user = () => {
              if (throws) throw answer;
              return answer as never;
            };
            expectWellFormed(createClassifier({ classifiers: [user] })(value), value);
          },
        ),
        { numRuns: 2_000 },
      );
    },
    TIMEOUT,
  );
});

type BackoffSpec = { build: () => Backoff; label: string };

const jitter = fc.constantFrom('none', 'full', 'equal', 'decorrelated' as const);

const backoffSpec: fc.Arbitrary<BackoffSpec> = fc.oneof(
  fc
    .record({
      initialMs: fc.double({ min: 0, max: 100_000, noNaN: true }),
      factor: fc.double({ min: 1, max: 10, noNaN: true }),
      extra: fc.double({ min: 0, max: 10_000_000, noNaN: true }),
      jitter,
    })
    .map(({ initialMs, factor, extra, jitter }) => ({
      label: `exponential(${initialMs}, ×${factor}, cap ${initialMs + extra}, ${jitter})`,
      build: () => exponentialBackoff({ initialMs, factor, maxDelayMs: initialMs + extra, jitter }),
    })),
  fc
    .record({
      initialMs: fc.double({ min: 0, max: 100_000, noNaN: true }),
      stepMs: fc.double({ min: 0, max: 100_000, noNaN: true }),
      maxDelayMs: fc.oneof(
        fc.double({ min: 0, max: 10_000_000, noNaN: true }),
        fc.constant(Number.POSITIVE_INFINITY),
      ),
      jitter,
    })
    .map((o) => ({ label: `linear(${JSON.stringify(o)})`, build: () => linearBackoff(o) })),
  fc
    .record({ delayMs: fc.double({ min: 0, max: 10_000_000, noNaN: true }), jitter })
    .map((o) => ({ label: `constant(${JSON.stringify(o)})`, build: () => constantBackoff(o) })),
);

describe('backoff delays lie within their bounds', () => {
  it(
    `for any schedule, attempt, previous delay and seed (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          backoffSpec,
          fc.oneof(
            fc.integer({ min: 1, max: 100_000 }),
            fc.double({ min: -10, max: 1e6, noNaN: true }),
          ),
          fc.integer(),
          fc.double({ min: 0, max: 1e7, noNaN: true }),
          fc.double({ min: 0.001, max: 10, noNaN: true }),
          (spec, attempt, seed, previousMs, scale) => {
            for (const backoff of [spec.build(), spec.build().scaled(scale)]) {
              const random = seededRandom(seed);
              const { min, max } = backoff.bounds(attempt);
              // Decorrelated jitter grows from the previous delay, which is itself within the cap.
              const previous = Math.min(previousMs, backoff.maxDelayMs);
              check(min <= max, () => `bounds ${min} > ${max}`);
              for (let i = 0; i < 5; i++) {
                const delay = backoff.delay(attempt, previous, random);
                check(
                  delay >= 0 && delay >= min && delay <= max && delay <= backoff.maxDelayMs,
                  () => `delay ${delay} outside [${min}, ${max}] (cap ${backoff.maxDelayMs})`,
                );
              }
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );

  it(
    'the default plan backoff (1 s × 2, 30 s cap, full jitter) stays in [0, min(30 s, 2^(n-1) s)] for any seed',
    () => {
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer(), (attempt, seed) => {
          const delay = exponentialBackoff().delay(attempt, 0, seededRandom(seed));
          expect(delay).toBeGreaterThanOrEqual(0);
          expect(delay).toBeLessThanOrEqual(Math.min(30_000, 1000 * 2 ** (attempt - 1)));
        }),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});

describe('plan.decide is total and consistent', () => {
  const category = fc.constantFrom(...FAULT_CATEGORIES);
  const planOptions = fc.record(
    {
      delayMultipliers: fc.dictionary(category, fc.double({ min: 0, max: 10, noNaN: true }), {
        maxKeys: 4,
      }),
      maxAttempts: fc.dictionary(category, fc.integer({ min: 1, max: 20 }), { maxKeys: 4 }),
      rules: fc.dictionary(
        category,
        fc.constantFrom('retry', 'pause', 'skip', 'abort', 'fallback' as const),
        { maxKeys: 4 },
      ),
    },
    { requiredKeys: [] },
  );

  it(
    `for any plan, fault, attempt and elapsed time (${RUNS} runs)`,
    () => {
      fc.assert(
        fc.property(
          planOptions,
          category,
          fc.option(fc.integer({ min: 0, max: 10 * 3_600_000 }), { nil: undefined }),
          fc.boolean(),
          fc.integer({ min: 1, max: 1000 }),
          fc.oneof(fc.double({ min: -1e9, max: 1e9, noNaN: true }), fc.constant(Number.NaN)),
          fc.integer(),
          (options, cat, retryAfterMs, retryable, attempt, elapsedMs, seed) => {
            const plan = recoveryPlan({ ...options, random: seededRandom(seed) });
            const fault = classify(
              Object.assign(new Error('x'), {
                category: cat,
                retryable,
                ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
              }),
            );
            const decision = plan.decide(fault, { attempt, elapsedMs });
            const rule = plan.rule(cat);
            check(
              Number.isFinite(decision.delayMs) && decision.delayMs >= 0,
              () => `delay ${decision.delayMs}`,
            );
            check(
              decision.fault === fault && decision.attempt === attempt,
              () => 'decision does not carry its fault and attempt',
            );
            check(
              typeof decision.reason === 'string' && decision.reason.length > 0,
              () => 'empty reason',
            );
            if (rule.action === 'skip' || rule.action === 'abort' || rule.action === 'fallback') {
              check(
                decision.action === rule.action && decision.delayMs === 0,
                () => `${rule.action} rule gave ${decision.action}`,
              );
            } else if (decision.action === 'retry' || decision.action === 'pause') {
              check(
                decision.action === rule.action,
                () => `${rule.action} rule gave ${decision.action}`,
              );
              check(
                retryable && attempt < rule.maxAttempts,
                () => 'waited on a fault that was not retryable or out of attempts',
              );
              check(
                decision.delayMs <= rule.maxWaitMs,
                () => `delay ${decision.delayMs} above maxWaitMs ${rule.maxWaitMs}`,
              );
              if (retryAfterMs !== undefined)
                check(
                  decision.delayMs >= retryAfterMs,
                  () => `delay ${decision.delayMs} earlier than Retry-After ${retryAfterMs}`,
                );
            } else {
              check(
                decision.action === 'skip' || decision.action === 'give_up',
                () => `unexpected ${decision.action}`,
              );
              check(decision.delayMs === 0, () => 'a final decision with a delay');
            }
          },
        ),
        { numRuns: RUNS },
      );
    },
    TIMEOUT,
  );
});
