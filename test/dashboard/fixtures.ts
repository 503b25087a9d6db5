import type { DurableStore, FaultSummary } from '../../src/durable/store.js';
import type { FaultCategory } from '../../src/faults/fault.js';

/** Fills a store with dead letters: `spec` gives category, message and payload of each (queue defaults to `crawl`). */
export async function addDeadLetters(
  store: DurableStore,
  now: number,
  spec: readonly {
    category: FaultCategory;
    message: string;
    payload?: string;
    queue?: string;
    checkpoint?: string;
  }[],
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, item] of spec.entries()) {
    const queue = item.queue ?? 'crawl';
    const id = (
      await store.enqueue(
        [
          {
            queue,
            payload: item.payload ?? JSON.stringify({ n: i }),
            priority: 0,
            runAt: now - 60_000,
          },
        ],
        now - 60_000,
      )
    )[0]!.id;
    const [job] = await store.claim({
      queue,
      workerId: `worker-${i % 3}`,
      limit: 1,
      leaseMs: 30_000,
      now: now - 50_000,
      maxStrikes: 5,
    });
    if (!job || job.id !== id) throw new Error(`claimed ${job?.id} instead of ${id}`);
    if (item.checkpoint !== undefined)
      await store.saveJobCheckpoint({ id, token: job.token }, item.checkpoint, now - 45_000);
    const fault: FaultSummary = {
      category: item.category,
      message: item.message,
      suggestions: [`Suggestion for ${item.category}`],
    };
    await store.settle(
      [
        {
          id,
          token: job.token,
          kind: 'dead',
          fault,
          record: {
            attempt: 1,
            workerId: `worker-${i % 3}`,
            startedAt: now - 50_000,
            durationMs: 120,
            outcome: 'dead',
            category: item.category,
            message: item.message,
          },
        },
      ],
      now - 40_000 + i,
    );
    ids.push(id);
  }
  return ids;
}
