import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The shared Redis at 127.0.0.1:6379, with a unique key prefix per test. A test that needs it
 * fails loudly when it is not there: it never skips.
 */
export const SHARED_REDIS_URL = process.env.FAULTLINE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label = 't'): string {
  return `lltest-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export async function connectShared(): Promise<Redis> {
  const client = new Redis(SHARED_REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    commandTimeout: 10_000,
    enableOfflineQueue: false,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(
      `These tests need Redis at ${SHARED_REDIS_URL} (it must be running): ${(error as Error).message}`,
    );
  }
  return client;
}

/** Deletes every key whose hash tag starts with the prefix. */
export async function deletePrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `{${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Key slot as Redis Cluster computes it: CRC16-CCITT (XModem) of the hash tag, mod 16384. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, 'utf8');
  let start = bytes.indexOf('{'.charCodeAt(0));
  let end = bytes.length;
  if (start !== -1) {
    const close = bytes.indexOf('}'.charCodeAt(0), start + 1);
    if (close !== -1 && close > start + 1) {
      end = close;
      start += 1;
    } else start = 0;
  } else start = 0;
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
