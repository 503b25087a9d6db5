/**
 * Rate-limit reset headers besides Retry-After: x-rate-limit-reset / x-ratelimit-reset (epoch
 * seconds), IETF RateLimit-Reset and RateLimit (delta seconds). Never early; long waits are left
 * to the plan's caps; hostile values are ignored.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  createClassifier,
  quotaExhausted,
  rateLimitResetFromHeaders,
} from '../../src/faults/index.js';
import { recoveryPlan } from '../../src/recovery/index.js';

const NOW = 1_700_000_000_000; // epoch ms
const at = (status: number, headers: Record<string, string>) =>
  Object.assign(new Error(`HTTP ${status}`), { status, headers });
const classify = createClassifier({ wallTime: () => NOW });

describe('rate-limit reset headers', () => {
  it('x-rate-limit-reset (epoch seconds) on a 429 gives the wait until then, rounded up', () => {
    const fault = classify(at(429, { 'x-rate-limit-reset': String(NOW / 1000 + 900) }));
    expect(fault.category).toBe('rate_limit');
    expect(fault.retryAfterMs).toBe(900_000);
    const fractional = classify(at(429, { 'x-ratelimit-reset': String((NOW + 1_500.2) / 1000) }));
    expect(fractional.retryAfterMs).toBe(1_501);
  });

  it('a reset already past means no wait', () => {
    expect(classify(at(429, { 'x-ratelimit-reset': String(NOW / 1000 - 60) })).retryAfterMs).toBe(
      0,
    );
  });

  it('a small x-ratelimit-reset is delta seconds', () => {
    expect(classify(at(429, { 'x-ratelimit-reset': '30' })).retryAfterMs).toBe(30_000);
  });

  it('GitHub: 403 with x-ratelimit-remaining 0 is a rate limit that waits for the reset', () => {
    const fault = classify(
      at(403, { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': String(NOW / 1000 + 120) }),
    );
    expect(fault.category).toBe('rate_limit');
    expect(fault.retryAfterMs).toBe(120_000);
    // A 403 with quota left is a refusal, and its reset header means nothing.
    const refused = classify(
      at(403, { 'x-ratelimit-remaining': '4999', 'x-ratelimit-reset': String(NOW / 1000 + 120) }),
    );
    expect(refused.category).toBe('permanent');
    expect(refused.retryAfterMs).toBeUndefined();
  });

  it('reset headers on an error that is no rate limit are ignored (APIs send them on every answer)', () => {
    expect(
      classify(at(503, { 'x-ratelimit-reset': String(NOW / 1000 + 3_000) })).retryAfterMs,
    ).toBeUndefined();
  });

  it('IETF RateLimit-Reset and RateLimit (both drafts) are delta seconds', () => {
    expect(classify(at(429, { 'ratelimit-reset': '45' })).retryAfterMs).toBe(45_000);
    expect(classify(at(429, { ratelimit: 'limit=100, remaining=0, reset=50' })).retryAfterMs).toBe(
      50_000,
    );
    expect(
      classify(at(429, { ratelimit: '"burst";r=3;t=5, "daily";r=0;t=3600' })).retryAfterMs,
    ).toBe(3_600_000);
    expect(quotaExhausted(new Headers({ ratelimit: '"default";r=0;t=10' }))).toBe(true);
  });

  it('of Retry-After and a reset header, the later wins: never early', () => {
    expect(
      classify(at(429, { 'retry-after': '10', 'x-rate-limit-reset': String(NOW / 1000 + 60) }))
        .retryAfterMs,
    ).toBe(60_000);
    expect(
      classify(at(429, { 'retry-after': '90', 'x-rate-limit-reset': String(NOW / 1000 + 60) }))
        .retryAfterMs,
    ).toBe(90_000);
  });

  it('reads fetch Headers too', () => {
    expect(
      rateLimitResetFromHeaders(new Headers({ 'X-Rate-Limit-Reset': String(NOW / 1000 + 5) }), NOW),
    ).toBe(5_000);
  });

  it('a reset far away is capped by the plan, as a long Retry-After is: it gives up instead of waiting', () => {
    const fault = classify(at(429, { 'x-rate-limit-reset': String(NOW / 1000 + 2 * 3_600) }));
    expect(fault.retryAfterMs).toBe(7_200_000);
    const decision = recoveryPlan().decide(fault, { attempt: 1 });
    expect(decision.action).toBe('give_up'); // the default pause waits at most 1 h at once
  });

  it('property: for any header values, the wait is undefined or a whole number of ms >= 0, and never earlier than an honest reset', () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '',
        ' ',
        '-1',
        'NaN',
        'Infinity',
        '1e400',
        '0x10',
        '１２',
        '9'.repeat(400),
        '12abc',
        '1.5.2',
        ' 7 ',
        '-0',
      ),
      fc.double().map(String),
      fc.nat().map(String),
    );
    const names = fc.constantFrom(
      'x-rate-limit-reset',
      'x-ratelimit-reset',
      'ratelimit-reset',
      'ratelimit',
      'retry-after',
      'x-ratelimit-remaining',
    );
    fc.assert(
      fc.property(
        fc.dictionary(names, hostile),
        fc.integer({ min: 0, max: 4_000_000_000 }),
        (headers, resetSecondsFromNow) => {
          const wait = rateLimitResetFromHeaders(headers, NOW);
          if (wait !== undefined && !(Number.isInteger(wait) && wait >= 0))
            throw new Error(`bad wait ${wait}`);
          const fault = classify(at(429, headers));
          if (
            fault.retryAfterMs !== undefined &&
            !(Number.isInteger(fault.retryAfterMs) && fault.retryAfterMs >= 0)
          )
            throw new Error('bad fault');
          // An honest epoch reset is never answered with an earlier time.
          const honest = {
            ...headers,
            'x-rate-limit-reset': String(Math.floor(NOW / 1000) + resetSecondsFromNow),
          };
          const honestWait = rateLimitResetFromHeaders(honest, NOW)!;
          const resetAtMs = (Math.floor(NOW / 1000) + resetSecondsFromNow) * 1000;
          if (
            Math.floor(NOW / 1000) + resetSecondsFromNow >= 1_000_000_000 &&
            NOW + honestWait < resetAtMs
          )
            throw new Error('early');
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('property: headers whose accessors throw are as good as absent', () => {
    const throwing = {
      get: () => {
        throw new Error('boom');
      },
    };
    expect(rateLimitResetFromHeaders(throwing, NOW)).toBeUndefined();
    expect(quotaExhausted(throwing)).toBe(false);
    expect(classify(at(429, throwing as never)).category).toBe('rate_limit');
  });
});
