import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../../time/clock.js';
import { escapeKeyPart, globalKey } from './keys.js';

/**
 * Stores written before the rename (when faultline was called lifeline, up to commit 744aecd) keep
 * their keys under the default prefix `lifeline`, with the same layout. A RedisStore opened with
 * the default prefix moves them under `faultline` before its first command, so the data users have
 * keeps working. This file is the only code that knows the old name.
 *
 * The move is meant for an upgrade that stops the old processes first (see docs/redis.md): keys
 * are renamed one at a time, so an old worker still running would see a queue half moved. Nothing
 * is ever overwritten: a key whose new name is already taken stays where it is, and is reported.
 */
export const LEGACY_PREFIX = 'lifeline';

export interface LegacyMigrationReport {
  /** Keys moved under the new prefix. */
  readonly renamed: number;
  /** Old keys left in place because their new name was taken (never overwritten). */
  readonly leftInPlace: readonly string[];
}

const LOCK_MS = 60_000;
const POLL_MS = 100;
/** How long a second process waits for another's migration before giving up. */
const WAIT_LIMIT_MS = 120_000;

/**
 * Moves every key of store `from` under `to`, unless there is nothing to move (one EXISTS in the
 * common case). Safe when several processes open the store at once: one takes a lock and moves,
 * the others wait until it is done.
 */
export async function migrateLegacyPrefix(
  client: Redis,
  clock: Clock,
  from = LEGACY_PREFIX,
  to = 'faultline',
): Promise<LegacyMigrationReport> {
  const markers = [globalKey(from, 'queues'), globalKey(from, 'ckpt')];
  const lockKey = globalKey(to, 'migration');
  const token = randomBytes(8).toString('hex');
  const deadline = clock.now() + WAIT_LIMIT_MS;
  for (;;) {
    if ((await client.exists(...markers)) === 0) return { renamed: 0, leftInPlace: [] };
    if ((await client.set(lockKey, token, 'PX', LOCK_MS, 'NX')) === 'OK') {
      try {
        return await moveKeys(client, from, to, () => client.pexpire(lockKey, LOCK_MS));
      } finally {
        // Release only our own lock (it may have expired and been taken by another process).
        await client.eval(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
          1,
          lockKey,
          token,
        );
      }
    }
    if (clock.now() > deadline) {
      throw new Error(
        `Another process has been moving the keys of prefix "${from}" to "${to}" for over ${WAIT_LIMIT_MS / 1000} s`,
      );
    }
    await clock.sleep(POLL_MS);
  }
}

async function moveKeys(
  client: Redis,
  from: string,
  to: string,
  extendLock: () => Promise<unknown>,
): Promise<LegacyMigrationReport> {
  const oldStart = `{${escapeKeyPart(from)}:`;
  const newStart = `{${escapeKeyPart(to)}:`;
  const registry = globalKey(from, 'queues');
  const checkpoints = globalKey(from, 'ckpt');
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await client.scan(
      cursor,
      'MATCH',
      `${globPattern(oldStart)}*`,
      'COUNT',
      1000,
    );
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  // The registry and the checkpoints mark an unfinished move, so they go last: a process that
  // dies half way leaves them, and the next open carries on where it stopped.
  const ordered = [
    ...keys.filter((key) => key !== registry && key !== checkpoints),
    ...keys.filter((key) => key === checkpoints),
    ...keys.filter((key) => key === registry),
  ];
  const leftInPlace: string[] = [];
  let renamed = 0;
  for (const [n, key] of ordered.entries()) {
    if (n % 500 === 499) await extendLock();
    const target = newStart + key.slice(oldStart.length);
    if ((await client.renamenx(key, target)) === 1) {
      renamed++;
    } else if (key === registry) {
      // Queue names are a set: the union loses nothing.
      await client.sunionstore(target, target, key);
      await client.del(key);
      renamed++;
    } else if (key === checkpoints) {
      // A checkpoint already saved under the new prefix is newer than the old one: keep it.
      const old = await client.hgetall(key);
      for (const [field, value] of Object.entries(old)) await client.hsetnx(target, field, value);
      await client.del(key);
      renamed++;
    } else {
      leftInPlace.push(key);
    }
  }
  return { renamed, leftInPlace };
}

/** Escapes the characters SCAN MATCH treats as a pattern. */
function globPattern(literal: string): string {
  return literal.replace(/[*?[\]\\]/g, (ch) => `\\${ch}`);
}
