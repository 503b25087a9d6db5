import type { EnqueueResult, NewJob } from '../../durable/store.js';
import type { Queryable } from './connection.js';
import type { Statements } from './statements.js';

/**
 * Adds jobs in one statement (all or none) through the store's pool or the caller's transaction.
 * Idempotency keys are a unique index: `ON CONFLICT DO NOTHING` stores one job per key even when
 * two transactions race (the second waits for the first to end), and the ids of keys that
 * already existed are read afterwards. Named prepared statements on the store's own pool only: a
 * caller's executor (Drizzle, Kysely) may not support them.
 */
export async function enqueueJobs(
  db: Queryable,
  sql: Statements,
  jobs: readonly NewJob[],
  now: number,
  /** Prefix for named prepared statements (the store's own pool); undefined: plain text. */
  prepared?: string,
): Promise<EnqueueResult[]> {
  if (jobs.length === 0) return [];
  const one = jobs.length === 1 ? jobs[0]! : undefined;
  // One job (the common case): scalar parameters, one row to plan.
  const values = one
    ? [
        one.queue,
        one.payload,
        one.priority,
        one.runAt,
        one.maxAttempts ?? null,
        one.idempotencyKey ?? null,
        now,
        sql.channel,
        one.headers ?? null,
      ]
    : [
        jobs.map((j) => j.queue),
        jobs.map((j) => j.payload),
        jobs.map((j) => j.priority),
        jobs.map((j) => j.runAt),
        jobs.map((j) => j.maxAttempts ?? null),
        jobs.map((j) => j.idempotencyKey ?? null),
        now,
        sql.channel,
        jobs.map((j) => j.headers ?? null),
      ];
  const text = one ? sql.enqueueOne : sql.enqueue;
  const { rows } =
    prepared === undefined
      ? await db.query(text, values)
      : await db.query({ name: `${prepared}.${one ? 'enqueueOne' : 'enqueue'}`, text, values });
  const inserted = rows as { id: string; queue: string; idempotency_key: string | null }[];
  const byKey = new Map<string, string>();
  // Rows without a key are inserted in input order, so their ids ascend in that order.
  const unkeyed = inserted
    .filter((r) => r.idempotency_key === null)
    .map((r) => r.id)
    .sort(compareIds);
  for (const r of inserted)
    if (r.idempotency_key !== null) byKey.set(keyOf(r.queue, r.idempotency_key), r.id);

  const results: EnqueueResult[] = new Array(jobs.length);
  const missing: NewJob[] = [];
  const claimedKeys = new Set<string>();
  let next = 0;
  jobs.forEach((job, i) => {
    if (job.idempotencyKey === undefined) {
      results[i] = { id: unkeyed[next++]!, created: true };
      return;
    }
    const key = keyOf(job.queue, job.idempotencyKey);
    const id = byKey.get(key);
    if (id === undefined) {
      missing.push(job);
      return;
    }
    // The first job with a key inserted in this call created it; later ones in the call did not.
    results[i] = { id, created: !claimedKeys.has(key) };
    claimedKeys.add(key);
  });
  if (missing.length > 0) {
    const existing = await db.query(sql.existingKeys, [
      missing.map((j) => j.queue),
      missing.map((j) => j.idempotencyKey),
    ]);
    for (const r of existing.rows as { id: string; queue: string; idempotency_key: string }[])
      byKey.set(keyOf(r.queue, r.idempotency_key), r.id);
    jobs.forEach((job, i) => {
      if (results[i] !== undefined) return;
      const id = byKey.get(keyOf(job.queue, job.idempotencyKey!));
      // Gone between the two statements (retention removed it): nothing to point at, so say so.
      if (id === undefined)
        throw new Error(
          `Job with idempotency key ${JSON.stringify(job.idempotencyKey)} was removed while enqueueing; enqueue again`,
        );
      results[i] = { id, created: false };
    });
  }
  return results;
}

function keyOf(queue: string, key: string): string {
  return `${queue.length}:${queue}${key}`;
}

function compareIds(a: string, b: string): number {
  return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
