import type { RetentionPolicy } from '../../durable/store.js';
import type { QueueScripts } from './queue-scripts.js';

/**
 * Applies retention to every queue given: completed jobs and dead letters finished before the age
 * bound or beyond the count bound are deleted, at most `batch` per script call (prune.lua), so
 * one call never blocks the server for long. Returns how many of each were deleted.
 */
export async function pruneQueues(
  scriptsOf: (queue: string) => QueueScripts,
  queues: readonly string[],
  retention: RetentionPolicy,
  now: number,
  batch: number,
): Promise<{ completed: number; dead: number }> {
  const total = { completed: 0, dead: 0 };
  for (const queue of queues) {
    for (const state of ['completed', 'dead'] as const) {
      const bound = retention[state];
      const cutoff = Number.isFinite(bound.maxAgeMs) ? now - bound.maxAgeMs : '';
      const maxCount = Number.isFinite(bound.maxCount) ? bound.maxCount : '';
      if (cutoff === '' && maxCount === '') continue;
      for (;;) {
        const deleted = (await scriptsOf(queue).run('prune', [
          state,
          cutoff,
          maxCount,
          batch,
        ])) as number;
        total[state] += deleted;
        if (deleted < batch) break;
      }
    }
  }
  return total;
}
