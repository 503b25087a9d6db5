import { describe, expect, it } from 'vitest';
import { redact } from '../../src/cli/redact.js';
import { passwordOf, redactCredentials, redactUrl } from '../../src/config/redact.js';
import { redactRedisUrl } from '../../src/stores/redis/url.js';

// One set of credential helpers serves the config, the CLI and the Redis store.
describe('credential redaction', () => {
  it.each([
    ['redis://u:p@ss@host:6379', 'redis://u:***@host:6379'],
    ['redis://:s3cr@t@host', 'redis://***@host'],
    ['redis://user:pw@host:1/0', 'redis://user:***@host:1/0'],
  ])('redactUrl masks the whole password of %s, a raw @ included', (url, expected) => {
    expect(redactUrl(url)).toBe(expected);
    expect(redactUrl(url)).not.toMatch(/ss@|s3cr|pw/);
  });

  it('scrubs every URL in free text up to the last @ before the host, for the CLI and the store alike', () => {
    const text = 'cannot reach redis://admin:p@ss@cache:6379/0 (then rediss://tok@other)';
    const expected = 'cannot reach redis://***@cache:6379/0 (then rediss://***@other)';
    expect(redactCredentials(text)).toBe(expected);
    expect(redact(text)).toBe(expected);
    expect(redactRedisUrl('redis://admin:p@ss@cache:6379/0')).toBe('redis://***@cache:6379/0');
  });

  it('masks extra secrets of four characters or more, and finds the password of a URL', () => {
    expect(passwordOf('redis://u:p%40ss@host')).toBe('p@ss');
    expect(passwordOf('redis://host')).toBeUndefined();
    expect(redactCredentials('AUTH failed for p@ss', ['p@ss'])).toBe('AUTH failed for ***');
  });
});
