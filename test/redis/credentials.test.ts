import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/faults/errors.js';
import { RedisStore } from '../../src/stores/redis/redis-store.js';

const SECRET = 'Sup3r-S3cret-pw';

describe('Redis credentials never leak', () => {
  it('keeps the password out of errors, toString, inspect and JSON', async () => {
    // Nothing listens on port 1: every call fails, and its error must not carry the password.
    const store = new RedisStore({
      url: `redis://admin:${SECRET}@127.0.0.1:1/0`,
      prefix: 'cred',
      connection: {
        connectTimeoutMs: 500,
        commandTimeoutMs: 500,
        ioredis: { maxRetriesPerRequest: 0, retryStrategy: () => null },
      },
    });
    const error = (await store.ping().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    const texts = [
      error.message,
      String(error.stack),
      String(store),
      inspect(store),
      JSON.stringify(store),
      inspect(error),
    ];
    for (const text of texts) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain('admin');
    }
    expect(String(store)).toContain('127.0.0.1:1');
    await store.close();
  });

  it('keeps it out of option errors too', () => {
    const error = (() => {
      try {
        new RedisStore({ url: `http://admin:${SECRET}@host:6379` });
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.message).not.toContain(SECRET);
    expect(error!.message).toContain('host');
  });
});
