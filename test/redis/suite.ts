import type { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { connectShared, deletePrefix, uniquePrefix } from './shared-redis.js';

/**
 * The usual set-up of a suite on the shared Redis: connect before it (failing loudly when Redis
 * is not there), hand the client over, and after it delete the suite's keys and disconnect.
 * Returns the suite's unique key prefix.
 */
export function useSharedRedis(label: string, connected: (client: Redis) => void): string {
  const prefix = uniquePrefix(label);
  let client: Redis | undefined;
  beforeAll(async () => {
    client = await connectShared();
    connected(client);
  });
  afterAll(async () => {
    if (client === undefined) return;
    await deletePrefix(client, prefix);
    client.disconnect();
  });
  return prefix;
}
