import type { Redis } from 'ioredis';
import { sortedCategoryCounts } from '../../durable/dead-letter-rules.js';
import type {
  CategoryCount,
  DeadLetterQuery,
  Throughput,
  ThroughputRequest,
} from '../../durable/store.js';
import { FAULT_CATEGORIES, type FaultCategory } from '../../faults/fault.js';
import type { DeadRef } from './dead-letters.js';
import { deadCategoryKey } from './keys.js';
import type { QueueScripts } from './queue-scripts.js';

/**
 * Counts of finished jobs read from the sorted sets' scores: one pipelined ZCOUNT per set and
 * range, so they cost the same for 100 or 1,000,000 jobs.
 */

/** Dead letters per category: ZCOUNT of each category set, or the `cat` field of each given match (text filter). */
export async function countDeadByCategory(
  client: Redis,
  scriptsOf: (queue: string) => QueueScripts,
  queues: readonly string[],
  query: DeadLetterQuery,
  matches: readonly DeadRef[] | undefined,
): Promise<CategoryCount[]> {
  const counts = new Map<FaultCategory, number>();
  const add = (category: FaultCategory, n: number) =>
    counts.set(category, (counts.get(category) ?? 0) + n);
  const pipeline = client.pipeline();
  if (matches !== undefined) {
    for (const ref of matches) pipeline.hget(scriptsOf(ref.queue).jobKey(ref.member), 'cat');
    for (const [error, category] of (await pipeline.exec()) ?? []) {
      if (error) throw error;
      if (typeof category === 'string') add(category as FaultCategory, 1);
    }
    return sortedCategoryCounts(counts);
  }
  const categories = query.category === undefined ? FAULT_CATEGORIES : [query.category];
  const min = query.newerThan === undefined ? '-inf' : String(query.newerThan);
  const max = query.olderThan === undefined ? '+inf' : String(query.olderThan);
  for (const queue of queues)
    for (const category of categories)
      pipeline.zcount(deadCategoryKey(scriptsOf(queue).keys, category), min, max);
  ((await pipeline.exec()) ?? []).forEach(([error, n], i) => {
    if (error) throw error;
    add(categories[i % categories.length]!, Number(n));
  });
  return sortedCategoryCounts(counts);
}

/** Completed and dead-lettered jobs per bucket, from the completed and dead sets' scores (finishedAt). */
export async function finishedPerBucket(
  client: Redis,
  scriptsOf: (queue: string) => QueueScripts,
  queues: readonly string[],
  request: ThroughputRequest,
): Promise<Throughput> {
  const { since, bucketMs, buckets } = request;
  const pipeline = client.pipeline();
  for (const queue of queues) {
    const keys = scriptsOf(queue).keys;
    for (const key of [keys.completed, keys.dead]) {
      for (let i = 0; i < buckets; i++)
        pipeline.zcount(key, String(since + i * bucketMs), `(${since + (i + 1) * bucketMs}`);
    }
  }
  const completed = new Array<number>(buckets).fill(0);
  const dead = new Array<number>(buckets).fill(0);
  ((await pipeline.exec()) ?? []).forEach(([error, n], i) => {
    if (error) throw error;
    // Replies come per queue: the completed buckets, then the dead ones.
    (Math.floor(i / buckets) % 2 === 0 ? completed : dead)[i % buckets]! += Number(n);
  });
  return { completed, dead };
}
