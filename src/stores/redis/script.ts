import { createHash } from 'node:crypto';
import type * as Ioredis from 'ioredis';
import type { Redis } from 'ioredis';
import { loadPeer } from '../../peers/optional-peer.js';

/**
 * A Lua script run by SHA: EVALSHA first (only the hash travels), and on NOSCRIPT — a fresh
 * connection to a restarted server, a SCRIPT FLUSH — load it once with SCRIPT LOAD and retry.
 */
export interface LuaScript {
  readonly name: string;
  readonly source: string;
  readonly sha: string;
}

export function defineScript(name: string, source: string): LuaScript {
  return { name, source, sha: createHash('sha1').update(source).digest('hex') };
}

/** How many SCRIPT LOADs each client has done, for tests and diagnostics. */
const loadsByClient = new WeakMap<Redis, number>();

export function scriptLoads(client: Redis): number {
  return loadsByClient.get(client) ?? 0;
}

type IoredisModule = typeof Ioredis;
/** Clients made by an ioredis module other than the installed one (RedisStore's `driver` option). */
const driverByClient = new WeakMap<Redis, IoredisModule>();

/** Sends this client's scripts with `driver`'s own Command class. */
export function useDriverFor(client: Redis, driver: IoredisModule): void {
  driverByClient.set(client, driver);
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

/**
 * EVALSHA sent straight to the connection, not through ioredis's auto-pipelining: that keeps one
 * pipeline in flight per connection, so a claim sent while a settle is out would wait for the
 * settle's reply instead of queueing behind it on the server. Direct commands are pipelined on
 * the socket as they are written, and each resolves as soon as its own reply arrives.
 */
function evalsha(
  client: Redis,
  sha: string,
  keyCount: number,
  flat: readonly string[],
): Promise<unknown> {
  const options = { replyEncoding: 'utf8' as const, keyPrefix: client.options.keyPrefix };
  const { Command } = driverByClient.get(client) ?? loadPeer<IoredisModule>('ioredis');
  return client.sendCommand(
    new Command('evalsha', [sha, keyCount, ...flat], options),
  ) as Promise<unknown>;
}

/** Runs `script` with KEYS and ARGV; loads it on the server the first time the server lacks it. */
export async function runScript(
  client: Redis,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | number)[],
): Promise<unknown> {
  const flat: string[] = [...keys, ...args.map(String)];
  try {
    return await evalsha(client, script.sha, keys.length, flat);
  } catch (error) {
    if (!isNoScript(error)) throw error;
  }
  const sha = (await client.script('LOAD', script.source)) as string;
  loadsByClient.set(client, scriptLoads(client) + 1);
  if (sha !== script.sha)
    throw new Error(`Redis returned SHA ${sha} for script ${script.name}, expected ${script.sha}`);
  return evalsha(client, script.sha, keys.length, flat);
}
