import { statSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { cutText } from '../../src/durable/bounded-text.js';
import { Queue } from '../../src/durable/queue.js';
import type { DurableStore } from '../../src/durable/store.js';
import { Worker } from '../../src/durable/worker.js';
import { ConfigError } from '../../src/faults/errors.js';
import { constantBackoff } from '../../src/recovery/backoff.js';
import { recoveryPlan } from '../../src/recovery/plan.js';
import { MemoryStore } from '../../src/stores/memory/index.js';
import { SqliteStore } from '../../src/stores/sqlite/index.js';
import { VirtualClock } from '../../src/testing/virtual-clock.js';
import { tempDir } from './temp-dir.js';

/** Finding 8 of issue 17: a handler error with a 5 MB message, retried 5 times, must not grow the store. */

const tmp = tempDir('faultline-bounded-');
afterAll(() => tmp.cleanup());
const FIVE_MB = 5 * 1024 * 1024;

async function failFiveTimes(store: DurableStore, options: { maxMessageChars?: number } = {}) {
  const clock = new VirtualClock();
  const queue = new Queue<{ n: number }>(store, 'big', { clock });
  const { id } = await queue.enqueue({ n: 1 });
  const worker = new Worker(
    queue,
    () => {
      throw Object.assign(new Error(`${'x'.repeat(FIVE_MB)}END`), { category: 'network' });
    },
    {
      clock,
      plan: recoveryPlan({
        backoff: constantBackoff({ delayMs: 10 }),
        maxAttempts: { network: 5 },
      }),
      pollMs: 10,
      keepAlive: false,
      ...options,
    },
  );
  let dead = false;
  worker.events.on('giveUp', () => (dead = true));
  worker.start();
  for (let i = 0; i < 500 && !dead; i++) await clock.advance(10);
  const stopped = worker.stop({ deadlineMs: 100 });
  let done = false;
  void stopped.then(() => (done = true));
  for (let i = 0; i < 100 && !done; i++) await clock.advance(10);
  expect(dead).toBe(true);
  return (await store.getJob(id))!;
}

describe('bounded records', () => {
  it('cuts a long message to its first maxMessageChars characters and says how much was cut', () => {
    expect(cutText('abcdef', 6)).toBe('abcdef');
    expect(cutText('abcdefgh', 3)).toBe('abc…[cut 5 chars]');
    // Never half a surrogate pair.
    expect(cutText('a😀b', 2)).toBe('a…[cut 3 chars]');
  });

  it('a 5 MB message retried 5 times on SQLite: every record cut to 4 KB, the database stays small', async () => {
    const file = tmp.path('big.db');
    const store = new SqliteStore(file);
    const job = await failFiveTimes(store);
    expect(job.state).toBe('dead');
    expect(job.history).toHaveLength(5);
    for (const record of job.history) {
      expect(record.message!.length).toBeLessThan(4_096 + 40);
      expect(record.message).toMatch(/…\[cut \d+ chars\]$/);
    }
    expect(job.fault!.message.length).toBeLessThan(4_096 + 40);
    expect(JSON.stringify(job).length).toBeLessThan(64 * 1024);
    await store.close();
    // Before: a 31 MB record in a 52 MB file.
    expect(statSync(file).size).toBeLessThan(1024 * 1024);
  });

  it('maxMessageChars is configurable and checked', async () => {
    const job = await failFiveTimes(new MemoryStore(), { maxMessageChars: 100 });
    expect(job.history[0]!.message).toBe(`${'x'.repeat(100)}…[cut ${FIVE_MB + 3 - 100} chars]`);
    const queue = new Queue(new MemoryStore(), 'q');
    expect(() => new Worker(queue, () => {}, { maxMessageChars: 0 })).toThrow(ConfigError);
    expect(
      () => new Worker(queue, () => {}, { maxMessageChars: 'x' as unknown as number }),
    ).toThrow(/maxMessageChars/);
  });
});
