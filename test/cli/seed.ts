import type { DurableStore } from '../../src/durable/store.js';

/**
 * Puts known state in a store through its public interface: two queues, two dead letters in
 * `crawl` (validation and network, with attempt history and a checkpoint), waiting and
 * completed jobs, and a crawl checkpoint.
 */
export interface Seeded {
  readonly deadValidation: string;
  readonly deadNetwork: string;
  readonly now: number;
}

export async function seedStore(store: DurableStore): Promise<Seeded> {
  const now = Date.now();
  const job = (queue: string, id: number) => ({
    queue,
    payload: JSON.stringify({ id }),
    priority: 0,
    runAt: now - 1000,
  });
  const [a, b, c] = await store.enqueue(
    [job('crawl', 1), job('crawl', 2), job('crawl', 3), job('crawl', 4), job('emails', 5)],
    now - 1000,
  );
  const claimed = await store.claim({
    queue: 'crawl',
    workerId: 'seed-worker',
    limit: 3,
    leaseMs: 60_000,
    now,
    maxStrikes: 3,
  });
  expectIds(
    claimed.map((j) => j.id),
    [a!.id, b!.id, c!.id],
  );
  const [first, second, third] = claimed;
  await store.saveJobCheckpoint(second!, JSON.stringify({ page: 7 }), now);
  const record = (category: 'validation' | 'network', message: string) => ({
    attempt: 1,
    workerId: 'seed-worker',
    startedAt: now - 20,
    durationMs: 12,
    outcome: 'dead' as const,
    category,
    message,
  });
  await store.settle(
    [
      { id: first!.id, token: first!.token, kind: 'complete' },
      {
        id: second!.id,
        token: second!.token,
        kind: 'dead',
        fault: {
          category: 'validation',
          message: 'Item 2: invalid record (missing title)',
          suggestions: ['Fix the payload and requeue it.'],
        },
        record: record('validation', 'Item 2: invalid record (missing title)'),
      },
      {
        id: third!.id,
        token: third!.token,
        kind: 'dead',
        fault: {
          category: 'network',
          message: 'fetch failed: read ECONNRESET',
          suggestions: ['Check network connectivity.'],
        },
        record: record('network', 'fetch failed: read ECONNRESET'),
      },
    ],
    now,
  );
  await store.putCheckpoint('crawl:crawl', JSON.stringify({ enqueued: 4, runs: 1 }), now);
  await store.putCheckpoint('upload:video-1', JSON.stringify({ parts: [1, 2] }), now);
  return { deadValidation: second!.id, deadNetwork: third!.id, now };
}

function expectIds(actual: string[], expected: string[]): void {
  if (actual.join() !== expected.join())
    throw new Error(`seed: claimed ${actual.join()} instead of ${expected.join()}`);
}
