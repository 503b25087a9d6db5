import { describe, expect, it } from 'vitest';
import {
  describeRedisTarget,
  passwordOf,
  redactCredentials,
  redactError,
  redactRedisUrl,
} from '../../src/stores/redis/url.js';

describe('redis URL redaction', () => {
  it('masks user and password in URLs', () => {
    expect(redactRedisUrl('redis://user:s3cret@cache.internal:6379/2')).toBe(
      'redis://***@cache.internal:6379/2',
    );
    expect(redactRedisUrl('rediss://:p%40ss@host:6380')).toBe('rediss://***@host:6380');
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('valkey://admin:hunter22@v:6379')).not.toContain('hunter22');
  });

  it('scrubs URLs and extra secrets out of free text', () => {
    const text = 'connect failed for redis://bob:topsecret@10.0.0.1:6379 (auth topsecret rejected)';
    const clean = redactCredentials(text, ['topsecret']);
    expect(clean).not.toContain('topsecret');
    expect(clean).not.toContain('bob');
    expect(clean).toContain('10.0.0.1:6379');
  });

  it('describes a target without credentials and extracts the password for scrubbing', () => {
    expect(describeRedisTarget('redis://u:pw1234@h:1/3')).toBe('redis://h:1/3');
    expect(passwordOf('redis://u:p%40ss@h:1')).toBe('p@ss');
    expect(passwordOf('redis://h:1')).toBeUndefined();
  });

  it('redacts an error message and stack in place', () => {
    const error = new Error('cannot reach redis://u:pw-9999@h:1');
    redactError(error, ['pw-9999']);
    expect(error.message).not.toContain('pw-9999');
    expect(String(error.stack)).not.toContain('pw-9999');
  });
});
