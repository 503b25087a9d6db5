import type {
  RetentionBound,
  RetentionPolicy,
  Throughput,
  ThroughputRequest,
} from '../../durable/store.js';
import type { Statements } from './statements.js';

/**
 * Reads and retention over the finished jobs (state 2 completed, 3 dead) of the SQLite store,
 * each a walk of the finished index `(queue, state, finished_at)` one queue at a time.
 */

/** Jobs finished per time bucket of a checked request: one range scan per queue and state, in one snapshot. */
export function finishedPerBucket(sql: Statements, request: ThroughputRequest): Throughput {
  const { since, bucketMs, buckets } = request;
  const completed = new Array<number>(buckets).fill(0);
  const dead = new Array<number>(buckets).fill(0);
  sql.read(() => {
    const queues =
      request.queue === undefined
        ? (sql.finishedQueues.all() as { queue: string }[]).map((r) => r.queue)
        : [request.queue];
    for (const queue of queues) {
      for (const [state, counts] of [
        [2, completed],
        [3, dead],
      ] as const) {
        const rows = sql.finishedPerBucket.all({
          queue,
          state,
          since,
          until: since + bucketMs * buckets,
          bucketMs,
        }) as { bucket: number; count: number }[];
        for (const row of rows) counts[row.bucket]! += row.count;
      }
    }
  });
  return { completed, dead };
}

/** Applies retention to every queue in one write transaction; returns how many of each it deleted. */
export function prune(
  sql: Statements,
  retention: RetentionPolicy,
  now: number,
): { completed: number; dead: number } {
  return sql.tx(() => {
    const queues = (sql.finishedQueues.all() as { queue: string }[]).map((r) => r.queue);
    let completed = 0;
    let dead = 0;
    for (const queue of queues) {
      completed += pruneState(sql, queue, 2, retention.completed, now);
      dead += pruneState(sql, queue, 3, retention.dead, now);
    }
    return { completed, dead };
  });
}

function pruneState(
  sql: Statements,
  queue: string,
  state: 2 | 3,
  bound: RetentionBound,
  now: number,
): number {
  let removed = 0;
  if (bound.maxAgeMs !== Number.POSITIVE_INFINITY)
    removed += sql.pruneAge.run(queue, state, now - bound.maxAgeMs).changes;
  if (bound.maxCount !== Number.POSITIVE_INFINITY)
    removed += sql.pruneCount.run(queue, state, bound.maxCount).changes;
  if (removed > 0) sql.bumpFinished.run(queue, state, -removed);
  return removed;
}
