import type { Redis } from 'ioredis';
import type { CheckpointRecord } from '../../durable/store.js';

/**
 * Checkpoints in one hash, `{<prefix>:ckpt}`: field = checkpoint key, value = `<updatedAt>\n<json>`.
 * One HSET replaces value and time together, so a write is atomic.
 */
export class RedisCheckpoints {
  constructor(
    private readonly client: Redis,
    private readonly hashKey: string,
  ) {}

  async get(key: string): Promise<CheckpointRecord | undefined> {
    const stored = await this.client.hget(this.hashKey, key);
    return stored === null ? undefined : decode(key, stored);
  }

  async put(key: string, value: string, now: number): Promise<void> {
    await this.client.hset(this.hashKey, key, `${now}\n${value}`);
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.hdel(this.hashKey, key)) === 1;
  }

  async list(prefix: string): Promise<CheckpointRecord[]> {
    const all = await this.client.hgetall(this.hashKey);
    return Object.keys(all)
      .filter((key) => key.startsWith(prefix))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((key) => decode(key, all[key]!));
  }
}

function decode(key: string, stored: string): CheckpointRecord {
  const newline = stored.indexOf('\n');
  return { key, updatedAt: Number(stored.slice(0, newline)), value: stored.slice(newline + 1) };
}
