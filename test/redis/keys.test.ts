import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  escapeKeyPart,
  globalKey,
  objectTag,
  queueKeys,
  unescapeKeyPart,
} from '../../src/stores/redis/keys.js';
import { keySlot } from './shared-redis.js';

describe('redis key naming', () => {
  it('computes cluster key slots like Redis does (CRC16 XModem)', () => {
    // Values from the Redis Cluster specification.
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('foo{}{bar}')).toBe(keySlot('foo{}{bar}'));
    expect(keySlot('foo{{bar}}zap')).toBe(keySlot('{bar'));
  });

  it('escapes reversibly and never leaves a separator or a brace', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (name) => {
        const escaped = escapeKeyPart(name);
        expect(escaped).not.toMatch(/[{}:]/);
        expect(unescapeKeyPart(escaped)).toBe(name);
      }),
    );
  });

  it('never gives two different queues (or a queue and another object) the same key', () => {
    const part = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 6 }),
      fc.constantFrom('a b', '{x}', 'q:1', 'é', '日本', '%7B', '}', ':'),
    );
    fc.assert(
      fc.property(part, part, part, part, (p1, q1, p2, q2) => {
        fc.pre(p1.length > 0 && p2.length > 0);
        const a = queueKeys(p1, q1);
        const b = queueKeys(p2, q2);
        if (p1 === p2 && q1 === q2) return;
        const aKeys = new Set(Object.values(a));
        for (const key of Object.values(b)) expect(aKeys.has(key)).toBe(false);
        expect(aKeys.has(objectTag(p2, 'cb', q2))).toBe(false);
        expect(aKeys.has(globalKey(p2, 'checkpoints', q2))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('puts every key of a queue in one cluster slot, whatever the queue name', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ unit: 'binary' }), (prefix, queue) => {
        const slots = new Set(Object.values(queueKeys(prefix, queue)).map(keySlot));
        expect(slots.size).toBe(1);
      }),
    );
    for (const queue of ['with space', '{braces}', '}{', 'ünïcødé ✓', '']) {
      expect(new Set(Object.values(queueKeys('app', queue)).map(keySlot)).size).toBe(1);
    }
  });
});
