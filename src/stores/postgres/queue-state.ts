import type { JobRecord, QueueCounts, RetentionPolicy } from '../../durable/store.js';
import { decodeUntil, encodeUntil, pauseInForce } from '../../durable/store-rules.js';
import type { Queryable } from './connection.js';
import { type JobRow, toRecord, toRowId } from './rows.js';
import type { Statements } from './statements.js';

/** A queue's state on PostgreSQL: pause and resume, counts, the list of queues, one job, retention. */

export async function pauseQueue(
  db: Queryable,
  sql: Statements,
  queue: string,
  until: number | null,
  now: number,
  replace: boolean,
): Promise<void> {
  await db.query(sql.pause, [
    queue,
    encodeUntil(until === null ? Number.POSITIVE_INFINITY : until),
    now,
    replace,
  ]);
}

export async function resumeQueue(db: Queryable, sql: Statements, queue: string): Promise<void> {
  await db.query(sql.resume, [queue, sql.channel]);
}

export async function queueStats(
  db: Queryable,
  sql: Statements,
  queue: string,
  now: number,
): Promise<QueueCounts> {
  const row = (await db.query(sql.stats, [queue, now])).rows[0] as Record<string, string | null>;
  return {
    waiting: Number(row.waiting),
    delayed: Number(row.delayed),
    running: Number(row.running),
    completed: Number(row.completed),
    dead: Number(row.dead),
    pausedUntil: pauseInForce(
      decodeUntil(row.paused_until === null ? null : Number(row.paused_until)),
      now,
    ),
    oldestWaitingSince: row.oldest === null ? null : Number(row.oldest),
  };
}

export async function queueNames(db: Queryable, sql: Statements): Promise<string[]> {
  return ((await db.query(sql.queues)).rows as { name: string }[]).map((r) => r.name);
}

export async function getJob(
  db: Queryable,
  sql: Statements,
  id: string,
): Promise<JobRecord | undefined> {
  const rowId = toRowId(id);
  if (rowId === null) return undefined;
  const row = (await db.query(sql.getJob, [rowId])).rows[0] as JobRow | undefined;
  return row && toRecord(row);
}

/** Removes finished jobs beyond the retention policy; `db` is one connection inside a transaction. */
export async function prune(
  db: Queryable,
  sql: Statements,
  retention: RetentionPolicy,
  now: number,
): Promise<{ completed: number; dead: number }> {
  const removed = { completed: 0, dead: 0 };
  // The prunes count their rows down and return how many they removed (statements.ts).
  const remove = async (text: string, values: unknown[]) =>
    ((await db.query(text, values)).rows[0] as { removed: number }).removed;
  for (const [name, state] of [
    ['completed', 2],
    ['dead', 3],
  ] as const) {
    const bound = retention[name];
    if (bound.maxAgeMs !== Number.POSITIVE_INFINITY)
      removed[name] += await remove(sql.pruneAge, [state, now - bound.maxAgeMs]);
    if (bound.maxCount !== Number.POSITIVE_INFINITY)
      removed[name] += await remove(sql.pruneCount, [state, bound.maxCount]);
  }
  return removed;
}
