import {
  bucketOf,
  messageContains,
  sortedCategoryCounts,
} from '../../durable/dead-letter-rules.js';
import type {
  CategoryCount,
  DeadLetterCursor,
  DeadLetterQuery,
  LeaseHolder,
  QueueCounts,
  RetentionBound,
  Throughput,
  ThroughputRequest,
} from '../../durable/store.js';
import type { FaultCategory } from '../../faults/fault.js';
import type { MemoryJob } from './memory-job.js';

/**
 * The memory store's reads: plain scans over its jobs, written for clarity (it is the reference
 * the other stores are compared with), never for speed. None of them writes.
 */

/** Sizes of one queue at `now`, pause left out (the store keeps pauses apart). */
export function countQueue(
  jobs: Iterable<MemoryJob>,
  queue: string,
  now: number,
): Omit<QueueCounts, 'pausedUntil'> {
  let waiting = 0;
  let delayed = 0;
  let running = 0;
  let completed = 0;
  let dead = 0;
  let oldest: number | null = null;
  for (const job of jobs) {
    if (job.queue !== queue) continue;
    if (job.state === 'waiting') {
      if (job.runAt <= now) {
        waiting++;
        if (oldest === null || job.runAt < oldest) oldest = job.runAt;
      } else delayed++;
    } else if (job.state === 'running') running++;
    else if (job.state === 'completed') completed++;
    else dead++;
  }
  return { waiting, delayed, running, completed, dead, oldestWaitingSince: oldest };
}

/** The workers holding a live lease at `now`, per queue, sorted by queue then worker id. */
export function leaseHolders(jobs: Iterable<MemoryJob>, now: number): LeaseHolder[] {
  const held = new Map<string, { queue: string; workerId: string; jobs: number }>();
  for (const job of jobs) {
    if (job.state !== 'running' || job.leaseUntil! <= now) continue;
    const key = `${job.queue}\u0000${job.workerId}`;
    const entry = held.get(key);
    if (entry) entry.jobs++;
    else held.set(key, { queue: job.queue, workerId: job.workerId!, jobs: 1 });
  }
  return [...held.values()].sort(
    (a, b) => compareText(a.queue, b.queue) || compareText(a.workerId, b.workerId),
  );
}

/** Dead letters matching the filters, newest first. */
export function matchDead(
  jobs: Iterable<MemoryJob>,
  query: Omit<DeadLetterQuery, 'limit'>,
): MemoryJob[] {
  const found: MemoryJob[] = [];
  for (const job of jobs) {
    if (job.state !== 'dead') continue;
    if (query.queue !== undefined && job.queue !== query.queue) continue;
    if (query.category !== undefined && job.fault?.category !== query.category) continue;
    if (query.olderThan !== undefined && job.finishedAt! > query.olderThan) continue;
    if (query.newerThan !== undefined && job.finishedAt! < query.newerThan) continue;
    if (query.before !== undefined && !listedAfter(job, query.before)) continue;
    if (!messageContains(job.fault!.message, query.text)) continue;
    found.push(job);
  }
  return found.sort(newestFinishedFirst);
}

export function countByCategory(dead: readonly MemoryJob[]): CategoryCount[] {
  const counts = new Map<FaultCategory, number>();
  for (const job of dead)
    counts.set(job.fault!.category, (counts.get(job.fault!.category) ?? 0) + 1);
  return sortedCategoryCounts(counts);
}

/** Finished jobs per time bucket of a checked request. */
export function finishedPerBucket(
  jobs: Iterable<MemoryJob>,
  request: ThroughputRequest,
): Throughput {
  const completed = new Array<number>(request.buckets).fill(0);
  const dead = new Array<number>(request.buckets).fill(0);
  for (const job of jobs) {
    if (
      job.finishedAt === undefined ||
      (request.queue !== undefined && job.queue !== request.queue)
    )
      continue;
    const bucket = bucketOf(request, job.finishedAt);
    if (bucket < 0) continue;
    if (job.state === 'completed') completed[bucket]!++;
    else if (job.state === 'dead') dead[bucket]!++;
  }
  return { completed, dead };
}

/** The finished jobs of `state` that retention removes: older than its age or beyond its count, per queue. */
export function beyondRetention(
  jobs: Iterable<MemoryJob>,
  state: 'completed' | 'dead',
  bound: RetentionBound,
  now: number,
): MemoryJob[] {
  const byQueue = new Map<string, MemoryJob[]>();
  for (const job of jobs) {
    if (job.state !== state) continue;
    const list = byQueue.get(job.queue);
    if (list) list.push(job);
    else byQueue.set(job.queue, [job]);
  }
  const doomed: MemoryJob[] = [];
  for (const list of byQueue.values()) {
    list.sort(newestFinishedFirst);
    list.forEach((job, index) => {
      if (index >= bound.maxCount || job.finishedAt! < now - bound.maxAgeMs) doomed.push(job);
    });
  }
  return doomed;
}

/** Claim order: highest priority first, then earliest runAt, then enqueue order. */
export function claimOrder(a: MemoryJob, b: MemoryJob): number {
  return b.priority - a.priority || a.runAt - b.runAt || a.seq - b.seq;
}

/** Listing order of finished jobs: newest first, then by enqueue order descending. */
export function newestFinishedFirst(a: MemoryJob, b: MemoryJob): number {
  return b.finishedAt! - a.finishedAt! || b.seq - a.seq;
}

/** Whether a dead job comes after the cursor in the listing order (newest first, then by id descending). */
function listedAfter(job: MemoryJob, cursor: DeadLetterCursor): boolean {
  if (job.finishedAt! !== cursor.deadAt) return job.finishedAt! < cursor.deadAt;
  const cursorSeq = Number(cursor.id);
  return Number.isFinite(cursorSeq) && job.seq < cursorSeq;
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
