/**
 * The last-resort message classifier: plain Errors are classified by well-known phrases, but
 * only when nothing else (a status, a code, an AWS name, a cause) recognised them; it can be off.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { categoryOfMessage, classify, createClassifier } from '../../src/faults/index.js';

describe('message classifier', () => {
  it.each([
    ['Quota exceeded for quota metric "Queries"', 'rate_limit'],
    ['You have exceeded your quota', 'rate_limit'],
    ['Rate limit reached, slow down', 'rate_limit'],
    ['401 Unauthorized', 'auth'],
    ['Forbidden: the video is private', 'permanent'],
    ['Request timed out after 30s', 'timeout'],
    ['Connection reset by peer', 'network'],
    ['socket hang up', 'network'],
    ['Service Unavailable', 'unavailable'],
    ['No space left on device', 'resource'],
  ] as const)('%s → %s', (message, category) => {
    const fault = classify(new Error(message));
    expect(fault.category).toBe(category);
    expect(fault.source).toBe('message');
  });

  it('a message with no known phrase stays unknown', () => {
    expect(classify(new Error('something odd happened')).category).toBe('unknown');
    expect(categoryOfMessage('the network cable is fine')).toBeUndefined();
  });

  it('never overrides a status, a code or a cause that is recognised', () => {
    expect(
      classify(Object.assign(new Error('Unauthorized? no: timed out'), { status: 503 })).category,
    ).toBe('unavailable');
    expect(classify(Object.assign(new Error('rate limit'), { code: 'ECONNRESET' })).category).toBe(
      'network',
    );
    // The cause has a status: the cause decides, not the wrapper's words.
    const wrapped = new Error('upload timed out', {
      cause: Object.assign(new Error('x'), { status: 429 }),
    });
    expect(classify(wrapped).category).toBe('rate_limit');
    expect(classify(wrapped).source).toBe('http');
  });

  it('keeps an unknown code it finds', () => {
    const fault = classify(Object.assign(new Error('quota exceeded'), { code: 'E_QUOTA' }));
    expect(fault).toMatchObject({ category: 'rate_limit', code: 'E_QUOTA' });
  });

  it('reads thrown strings and causes', () => {
    expect(classify('connection refused').category).toBe('network');
    expect(
      classify(new Error('wrapper', { cause: new Error('Operation timed out') })).category,
    ).toBe('timeout');
  });

  it('can be turned off', () => {
    const plain = createClassifier({ messages: false });
    expect(plain(new Error('quota exceeded')).category).toBe('unknown');
    expect(() => createClassifier({ messages: 'no' as never })).toThrow(/messages/);
  });

  it('property: any message classifies to a fault without throwing, quickly', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 5_000 }), (text) => {
        const fault = classify(new Error(text));
        if (typeof fault.category !== 'string') throw new Error('no category');
      }),
      { numRuns: 2_000 },
    );
  });
});
