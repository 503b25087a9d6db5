import { describe, expect, it } from 'vitest';
import { classify } from '../../src/index.js';

describe('classify (smoke)', () => {
  it('classifies an errno error as network', () => {
    const fault = classify(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    );
    expect(fault.category).toBe('network');
    expect(fault.retryable).toBe(true);
  });
});
