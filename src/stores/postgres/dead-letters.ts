import { JobNotFoundError } from '../../durable/errors.js';
import type {
  CategoryCount,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterSelector,
  PurgeQuery,
  Throughput,
  ThroughputRequest,
} from '../../durable/store.js';
import type { FaultCategory } from '../../faults/fault.js';
import type { Queryable } from './connection.js';
import { type JobRow, toDeadLetter, toRowId } from './rows.js';
import type { Statements } from './statements.js';

/**
 * The dead-letter operations of the PostgreSQL store (listing, searching, counting, requeueing,
 * purging) and the throughput buckets: the dashboard's reads and the operator's writes. Each
 * runs on what the store hands it: its pool, or one connection inside a transaction.
 */

/** Ids per statement when deleting or requeueing many dead letters. */
const ID_BATCH = 10_000;

export async function listDead(
  db: Queryable,
  sql: Statements,
  query: DeadLetterQuery,
): Promise<DeadLetter[]> {
  return (await selectDead(db, sql, query, '*')).map((row) =>
    toDeadLetter(row as unknown as JobRow),
  );
}

export async function countDeadByCategory(
  db: Queryable,
  sql: Statements,
  query: DeadLetterQuery,
): Promise<CategoryCount[]> {
  const { where, values } = deadFilter({ ...query, before: undefined });
  return (await db.query(sql.countDead(where), values)).rows as {
    category: FaultCategory;
    count: number;
  }[];
}

/** `request` as checkThroughputRequest returned it. */
export async function finishedPerBucket(
  db: Queryable,
  sql: Statements,
  request: ThroughputRequest,
): Promise<Throughput> {
  const { since, bucketMs, buckets } = request;
  const oneQueue = request.queue !== undefined;
  const values: unknown[] = [since, bucketMs, since + bucketMs * buckets];
  if (oneQueue) values.push(request.queue);
  const rows = (await db.query(sql.finishedPerBucket(oneQueue), values)).rows as {
    state: number;
    bucket: number;
    count: number;
  }[];
  const completed = new Array<number>(buckets).fill(0);
  const dead = new Array<number>(buckets).fill(0);
  for (const row of rows) (row.state === 2 ? completed : dead)[row.bucket]! += row.count;
  return { completed, dead };
}

/** Inside a transaction: the letters are locked from the read to the write. */
export async function requeueDead(
  db: Queryable,
  sql: Statements,
  selector: DeadLetterSelector,
  options: { readonly now: number; readonly dryRun?: boolean },
): Promise<string[]> {
  let ids: string[];
  if ('ids' in selector) {
    ids = [...selector.ids];
    const numeric = ids.map(toRowId).filter((id): id is string => id !== null);
    const found = new Set(
      ((await db.query(sql.lockDead, [numeric])).rows as { id: string }[]).map((r) => r.id),
    );
    const missing = ids.find((id) => !found.has(id));
    if (missing !== undefined) throw new JobNotFoundError(missing, 'dead letter');
  } else {
    ids = (await selectDead(db, sql, selector.query, 'id::text AS id', true)).map((row) =>
      String(row.id),
    );
  }
  if (!options.dryRun) {
    for (let i = 0; i < ids.length; i += ID_BATCH)
      await db.query(sql.requeue, [ids.slice(i, i + ID_BATCH), options.now, sql.channel]);
  }
  return ids;
}

/** Inside a transaction, as `requeueDead`. */
export async function purgeDead(
  db: Queryable,
  sql: Statements,
  query: PurgeQuery,
): Promise<number> {
  const { keepNewest, ...filter } = query;
  const ids = (await selectDead(db, sql, filter, 'id::text AS id', true)).map((row) =>
    String(row.id),
  );
  const doomed = keepNewest === undefined ? ids : ids.slice(keepNewest);
  for (let i = 0; i < doomed.length; i += ID_BATCH)
    await db.query(sql.deleteJobs, [doomed.slice(i, i + ID_BATCH)]);
  return doomed.length;
}

/** Dead letters matching the query, newest first (then by id, descending). */
async function selectDead(
  db: Queryable,
  sql: Statements,
  query: DeadLetterQuery,
  columns: string,
  lock = false,
): Promise<Record<string, unknown>[]> {
  const { where, values } = deadFilter(query);
  const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
  return (
    await db.query(sql.selectDead(columns, where, limit) + (lock ? ' FOR UPDATE' : ''), values)
  ).rows as Record<string, unknown>[];
}

/** The WHERE parts of a dead-letter query with numbered parameters, keyset cursor included (no OFFSET). */
function deadFilter(query: DeadLetterQuery): { where: string[]; values: unknown[] } {
  const where = ['state = 3'];
  const values: unknown[] = [];
  const filter = (condition: string, value: unknown) => {
    if (value === undefined) return;
    values.push(value);
    where.push(condition.replaceAll('?', `$${values.length}`));
  };
  filter('queue = ?', query.queue);
  filter("fault->>'category' = ?", query.category);
  filter('finished_at <= ?', query.olderThan);
  filter('finished_at >= ?', query.newerThan);
  // strpos, not LIKE: plain text, no wildcards. lower() under the "C" collation folds ASCII letters only.
  filter(
    `strpos(lower((fault->>'message') COLLATE "C"), lower(?::text COLLATE "C")) > 0`,
    query.text,
  );
  if (query.before !== undefined) {
    // A row comparison: the dead index (finished_at DESC, id DESC) reads from the cursor on. An id
    // that cannot be a row id matches nothing at that deadAt (as on SQLite).
    values.push(query.before.deadAt, toRowId(query.before.id) ?? '0');
    where.push(`(finished_at, id) < ($${values.length - 1}::bigint, $${values.length}::bigint)`);
  }
  return { where, values };
}
