import type { Redis } from 'ioredis';
import { ConfigError } from '../../faults/errors.js';
import { scopedName } from '../../validate/scoped.js';

/**
 * ioredis answers a failed SELECT (a database the server does not have) by staying in
 * database 0 and reporting nothing to the caller, so the jobs would land in the wrong place.
 * The server's own count (`CONFIG GET databases`, or the `db` of `CLIENT INFO` where CONFIG
 * is disabled) is checked once, before the first call. Returns the error that makes the store
 * unusable for good, or undefined when the database is there (or the server cannot tell).
 */
export async function missingDatabase(
  client: Redis,
  database: number,
  target: string,
  address: string,
): Promise<ConfigError | undefined> {
  if (database === 0) return undefined;
  const count = await serverDatabases(client);
  const actual = count === undefined ? await connectionDatabase(client) : undefined;
  if ((count !== undefined && database >= count) || (actual !== undefined && actual !== database)) {
    const has =
      count === undefined
        ? `this connection is on database ${actual}`
        : `the server has ${count} (0 to ${count - 1})`;
    return new ConfigError(
      scopedName('redisStore', 'url'),
      target,
      `a database the server has: database ${database} does not exist at ${address}; ${has}`,
    );
  }
  return undefined;
}

async function serverDatabases(client: Redis): Promise<number | undefined> {
  const reply = await client.config('GET', 'databases').catch(rethrowUnlessReplyError);
  const count = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
  return Number.isSafeInteger(count) && count > 0 ? count : undefined;
}

async function connectionDatabase(client: Redis): Promise<number | undefined> {
  const info = await client.call('CLIENT', 'INFO').catch(rethrowUnlessReplyError);
  const match = typeof info === 'string' ? / db=(\d+) /.exec(info) : null;
  return match ? Number(match[1]) : undefined;
}

/** CONFIG or CLIENT INFO refused (disabled, an ACL): the check cannot tell, which is no error. A dropped connection is. */
function rethrowUnlessReplyError(error: unknown): undefined {
  if ((error as { name?: unknown } | null)?.name === 'ReplyError') return undefined;
  throw error;
}
