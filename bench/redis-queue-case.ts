/**
 * One benchmark run of faultline's Redis store, shared by bench/queue.ts (side by side with SQLite,
 * BullMQ and plainjob) and bench/queue-redis.ts (Redis store against BullMQ only):
 * `jobs` no-op jobs enqueued in chunks of 1,000, then processed by one Worker at `concurrency`,
 * optionally with 10% of the jobs failing once and retried at once. Keys go under a unique prefix,
 * deleted afterwards. Returns [enqueue jobs/s, processing jobs/s].
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Queue } from '../src/durable/queue.js';
import { Worker } from '../src/durable/worker.js';
import { constantBackoff } from '../src/recovery/backoff.js';
import { recoveryPlan } from '../src/recovery/plan.js';
import { RedisStore } from '../src/stores/redis/redis-store.js';

export interface RedisQueueCase {
  readonly url?: string;
  readonly jobs?: number;
  readonly concurrency?: number;
  readonly failing: boolean;
}

const ENQUEUE_CHUNK = 1_000;
const transient = () =>
  Object.assign(new Error('connection reset (bench)'), { code: 'ECONNRESET' });

export async function redisStoreRun(options: RedisQueueCase): Promise<[number, number]> {
  const url = options.url ?? process.env.FAULTLINE_BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const jobs = options.jobs ?? 20_000;
  const prefix = `llbench-${randomBytes(4).toString('hex')}`;
  const store = new RedisStore({ url, prefix });
  const queue = new Queue<{ n: number }>(store, 'bench');
  const t0 = performance.now();
  for (let start = 0; start < jobs; start += ENQUEUE_CHUNK) {
    await queue.enqueueMany(
      Array.from({ length: Math.min(ENQUEUE_CHUNK, jobs - start) }, (_, i) => ({
        payload: { n: start + i },
      })),
    );
  }
  const enqueueMs = performance.now() - t0;
  const plan = recoveryPlan({
    rules: { network: { action: 'retry', maxAttempts: 2, backoff: constantBackoff(0) } },
  });
  let done = 0;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const worker = new Worker<{ n: number }>(
    queue,
    (payload, context) => {
      if (options.failing && context.attempt === 1 && payload.n % 10 === 0) throw transient();
    },
    // pollMs 20: an idle worker looks again soon (BullMQ's workers block on Redis and wake at once).
    {
      concurrency: options.concurrency ?? 50,
      plan,
      pollMs: 20,
      pruneEveryMs: Number.POSITIVE_INFINITY,
    },
  );
  worker.events.on('completed', () => {
    if (++done === jobs) finish();
  });
  const t1 = performance.now();
  worker.start();
  await finished;
  const processMs = performance.now() - t1;
  await worker.stop();
  await store.close();
  await deleteKeys(url, `{${prefix}`);
  return [(jobs / enqueueMs) * 1_000, (jobs / processMs) * 1_000];
}

/** Deletes every key that starts with `prefix` (SCAN + UNLINK), so a bench run leaves Redis as it found it. */
export async function deleteKeys(url: string, prefix: string): Promise<void> {
  const client = new Redis(url);
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await client.unlink(...keys);
  } while (cursor !== '0');
  client.disconnect();
}
