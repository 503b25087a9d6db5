import type { LeaseHolder } from '../../durable/store.js';
import type { QueueScripts } from './queue-scripts.js';

/**
 * The workers holding live leases, per queue: one script per queue (lease-holders.lua), each an
 * atomic read of that queue; the queues are read one after another, not as one snapshot.
 */
export async function leaseHolders(
  scriptsOf: (queue: string) => QueueScripts,
  queues: readonly string[],
  now: number,
): Promise<LeaseHolder[]> {
  const holders: LeaseHolder[] = [];
  const perQueue = await Promise.all(
    queues.map(async (queue) => ({
      queue,
      workers: (await scriptsOf(queue).run('leaseHolders', [now])) as string[],
    })),
  );
  for (const { queue, workers } of perQueue) {
    const counts = new Map<string, number>();
    for (const workerId of workers) counts.set(workerId, (counts.get(workerId) ?? 0) + 1);
    for (const [workerId, jobs] of counts) holders.push({ queue, workerId, jobs });
  }
  return holders.sort(
    (a, b) => compareText(a.queue, b.queue) || compareText(a.workerId, b.workerId),
  );
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
