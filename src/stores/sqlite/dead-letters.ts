import type Database from 'better-sqlite3';
import { JobNotFoundError } from '../../durable/errors.js';
import type {
  CategoryCount,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterSelector,
  PurgeQuery,
} from '../../durable/store.js';
import type { FaultCategory } from '../../faults/fault.js';
import { type JobRow, toDeadLetter, toRowId } from './rows.js';
import { FinishedTally } from './finished-counts.js';
import type { Statements } from './statements.js';

/** The category of a dead letter, as the expression of the `faultline_jobs_dead_category` index. */
const CATEGORY = "json_extract(fault, '$.category')";

/**
 * The dead-letter queries of the SQLite store: lists, category counts, requeue and purge by
 * filter. Filters are built per call (their shape varies); each method is one transaction.
 */
export class SqliteDeadLetters {
  constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
  ) {}

  list(query: DeadLetterQuery): DeadLetter[] {
    return this.select(query, '*').map((row) => toDeadLetter(row as JobRow));
  }

  countByCategory(query: DeadLetterQuery): CategoryCount[] {
    const { where, args } = deadFilter({ ...query, before: undefined });
    // A text filter reads every match's fault: in the dead index's order (finished_at, which
    // follows insertion) the rows come nearly in table order, four times faster than by category.
    const from =
      query.text === undefined ? 'faultline_jobs' : 'faultline_jobs INDEXED BY faultline_jobs_dead';
    const sql = `SELECT ${CATEGORY} AS category, count(*) AS count FROM ${from} WHERE ${where}
      GROUP BY ${CATEGORY} ORDER BY count DESC, category`;
    return this.db.prepare(sql).all(...args) as { category: FaultCategory; count: number }[];
  }

  requeue(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): string[] {
    return this.sql.tx(() => {
      let ids: string[];
      if ('ids' in selector) {
        ids = [...selector.ids];
        for (const id of ids) {
          const row = this.sql.getState.get(toRowId(id)) as { state: number } | undefined;
          if (row?.state !== 3) throw new JobNotFoundError(id, 'dead letter');
        }
      } else {
        ids = this.select(selector.query, 'id').map((row) => String(row.id));
      }
      if (!options.dryRun) this.moveOut(ids, (id) => this.sql.requeue.get(options.now, id));
      return ids;
    });
  }

  purge(query: PurgeQuery): number {
    return this.sql.tx(() => {
      const { keepNewest, ...filter } = query;
      const ids = this.select(filter, 'id').map((row) => row.id);
      const doomed = keepNewest === undefined ? ids : ids.slice(keepNewest);
      this.moveOut(doomed, (id) => this.sql.deleteDead.get(id));
      return doomed.length;
    });
  }

  /** Runs `write` (a requeue or a delete returning the queue) on each dead letter and counts them out. */
  private moveOut(ids: readonly (string | number)[], write: (id: number) => unknown): void {
    const tally = new FinishedTally();
    for (const id of ids) {
      const row = write(toRowId(String(id))) as { queue: string } | undefined;
      if (row) tally.add(row.queue, 3, -1);
    }
    tally.write(this.sql.bumpFinished);
  }

  /** Dead letters matching the query, newest first (then by id, descending). */
  private select(query: DeadLetterQuery, columns: '*' | 'id'): { id: number }[] {
    const { where, args } = deadFilter(query);
    const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    const sql = `SELECT ${columns} FROM faultline_jobs WHERE ${where} ORDER BY finished_at DESC, id DESC${limit}`;
    return this.db.prepare(sql).all(...args) as { id: number }[];
  }
}

/** The WHERE clause of a dead-letter query, keyset cursor included (no OFFSET: pages cost the same). */
function deadFilter(query: DeadLetterQuery): { where: string; args: unknown[] } {
  const where = ['state = 3'];
  const args: unknown[] = [];
  const filter = (condition: string, ...values: unknown[]) => {
    if (values[0] === undefined) return;
    where.push(condition);
    args.push(...values);
  };
  filter('queue = ?', query.queue);
  filter(`${CATEGORY} = ?`, query.category);
  filter('finished_at <= ?', query.olderThan);
  filter('finished_at >= ?', query.newerThan);
  // instr over lower(): plain text, no LIKE wildcards to escape; lower() folds ASCII only, as asciiLower.
  // A search is a scan: first a cheap test on the raw JSON text (no parse), then the exact one on
  // the message. The raw test is skipped for text that JSON writes escaped (quotes, backslashes, controls).
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON escapes.
  if (query.text !== undefined && !/["\\\u0000-\u001f]/.test(query.text))
    filter('instr(lower(fault), lower(?)) > 0', query.text);
  filter("instr(lower(json_extract(fault, '$.message')), lower(?)) > 0", query.text);
  if (query.before !== undefined)
    filter(
      '(finished_at < ? OR (finished_at = ? AND id < ?))',
      query.before.deadAt,
      query.before.deadAt,
      toRowId(query.before.id),
    );
  return { where: where.join(' AND '), args };
}
