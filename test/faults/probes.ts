import type { Queue } from '../../src/durable/queue.js';

/**
 * Jobs enqueued (on the direct path) the moment a fault heals. "Workers resume within a bound
 * after the fault heals" needs work to resume: without them, a scenario whose backlog happened
 * to be finished before the heal (a fast machine, a fault that let work through between its
 * phases) has no start after the heal at all, and its resume time reads as infinite.
 */
export const RESUME_PROBES = 8;

/** Enqueues the probes, numbered after the scenario's own jobs; resolves with their ids. */
export async function enqueueProbes(
  queue: Queue<{ n: number; poison?: boolean }>,
  firstN: number,
): Promise<string[]> {
  const results = await queue.enqueueMany(
    Array.from({ length: RESUME_PROBES }, (_, k) => ({ payload: { n: firstN + k } })),
  );
  return results.map((r) => r.id);
}
