import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import * as check from '../../validate/validate.js';
import { checkThroughputRequest } from '../../durable/dead-letter-rules.js';
import { JobNotFoundError } from '../../durable/errors.js';
import { ConfigError } from '../../faults/errors.js';
import type {
  CategoryCount,
  CheckpointRecord,
  ClaimedJob,
  ClaimRequest,
  DeadLetter,
  DeadLetterQuery,
  DeadLetterSelector,
  DurableStore,
  EnqueueResult,
  JobRecord,
  LeaseRef,
  NewJob,
  Outcome,
  PurgeQuery,
  QueueCounts,
  RetentionBound,
  RetentionPolicy,
  SettleResult,
  Throughput,
  ThroughputRequest,
  StoreEnqueueOptions,
} from '../../durable/store.js';
import { loadPeer } from '../../peers/optional-peer.js';
import type { FaultCategory } from '../../faults/fault.js';
import {
  crashLoopFault,
  decodeUntil,
  encodeUntil,
  mergePause,
  pauseInForce,
  refuseTransaction,
} from '../../durable/store-rules.js';
import {
  type ClaimRow,
  claimOrder,
  type JobRow,
  toClaimed,
  toDeadLetter,
  toRecord,
} from './rows.js';
import { inspectSchema, migrate } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { DamageLatch } from './damage-latch.js';
import {
  accessError,
  checkStorePath,
  checkWritableFile,
  FileIdentity,
  isAccessFailure,
} from './file-identity.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

export interface SqliteStoreOptions {
  /**
   * `NORMAL` (default): in WAL mode a commit survives a process crash; the last commits may be
   * lost if the machine loses power. `FULL`: every commit is synced to disk, slower.
   */
  readonly synchronous?: 'NORMAL' | 'FULL';
  /** How long a write waits for another process's write lock before failing (default 5,000 ms). */
  readonly busyTimeoutMs?: number;
  /**
   * The better-sqlite3 module to use instead of the installed `better-sqlite3` (for an aliased
   * install, such as `better-sqlite3-11: npm:better-sqlite3@11`).
   * @defaultValue `require('better-sqlite3')`, loaded when the first store opens
   */
  readonly driver?: typeof Database;
  /**
   * How often, at most, a call checks that the path still names the file the store opened
   * (default 1,000 ms; `ping()`, and so `queue.health()`, always checks, and so does every
   * outcome write, after its commit, so that no outcome written into a deleted file is reported
   * applied). A deleted or replaced file fails every call from then on with StoreFileGoneError.
   */
  readonly fileCheckMs?: number;
}

/** What `integrityCheck()` found: `ok`, or the problems SQLite listed (or the error it raised). */
export interface IntegrityReport {
  readonly ok: boolean;
  readonly problems: readonly string[];
}

/**
 * The embedded store: everything in one SQLite file (WAL mode), shared safely by many
 * processes on one machine. Claims run under `BEGIN IMMEDIATE`, so two processes never take
 * the same job; every method is one transaction with prepared statements.
 */
export class SqliteStore implements DurableStore {
  readonly kind = 'sqlite';
  readonly path: string;
  private readonly db: Database.Database;
  private readonly sql: Statements;
  private readonly file: FileIdentity;
  private readonly tokenPrefix = randomBytes(6).toString('base64url');
  private tokenCounter = 0;
  private readonly damage: DamageLatch;
  private closed = false;

  /**
   * Opens (or creates) the store at `path`. Throws NotAFaultlineStoreError for a file that is not
   * SQLite or holds other tables, SchemaVersionError for a newer faultline's file (nothing is
   * written to either), ConfigError for a path with a NUL or in a folder that does not exist, and
   * a StoreError (`resource`) saying why for a file or folder it cannot write.
   */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    checkStorePath(path);
    const opts = check.plainObject('options', options);
    check.knownKeys('sqlite', opts, ['synchronous', 'busyTimeoutMs', 'fileCheckMs', 'driver']);
    const synchronous = check.oneOf('synchronous', options.synchronous ?? 'NORMAL', [
      'NORMAL',
      'FULL',
    ]);
    const busyTimeoutMs = check.nonNegativeInteger('busyTimeoutMs', options.busyTimeoutMs ?? 5_000);
    const fileCheckMs = check.nonNegativeNumber('fileCheckMs', options.fileCheckMs ?? 1_000);
    this.path = path;
    this.damage = new DamageLatch(path);
    const driver = options.driver ?? loadPeer<typeof Database>('better-sqlite3');
    if (typeof driver !== 'function')
      throw new ConfigError('driver', '(not a function)', 'the better-sqlite3 module');
    checkWritableFile(path);
    try {
      this.db = new driver(path);
    } catch (error) {
      throw isAccessFailure(error) ? accessError(path, error) : error;
    }
    try {
      this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      inspectSchema(this.db, path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous}`);
      migrate(this.db, path, Date.now());
      this.file = new FileIdentity(path, fileCheckMs);
    } catch (error) {
      this.db.close();
      // A valid store in a read-only place is not "not a faultline store": say why it cannot open.
      throw isAccessFailure(error) ? accessError(path, error) : error;
    }
    this.sql = prepareStatements(this.db);
    // Every call but integrityCheck() and close(): a damaged file stays refused once seen.
    this.damage.guard(this, GUARDED);
  }

  async enqueue(
    jobs: readonly NewJob[],
    now: number,
    options?: StoreEnqueueOptions,
  ): Promise<EnqueueResult[]> {
    refuseTransaction('SQLite', options);
    this.open();
    return this.sql.tx(() => {
      const results: EnqueueResult[] = [];
      for (const job of jobs) {
        if (job.idempotencyKey !== undefined) {
          const existing = this.sql.findByKey.get(job.queue, job.idempotencyKey) as
            | { id: number }
            | undefined;
          if (existing) {
            results.push({ id: String(existing.id), created: false });
            continue;
          }
        }
        const info = this.sql.insert.run(
          job.queue,
          job.payload,
          job.priority,
          job.runAt,
          now,
          job.maxAttempts ?? null,
          job.idempotencyKey ?? null,
          job.headers ?? null,
        );
        results.push({ id: String(info.lastInsertRowid), created: true });
      }
      return results;
    });
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    this.open();
    const { queue, now } = request;
    return this.sql.tx(() => {
      const paused = this.sql.getPause.get(queue) as { paused_until: number | null } | undefined;
      if (pauseInForce(decodeUntil(paused?.paused_until ?? null), now) !== null) return [];
      for (const expired of this.sql.expired.all(queue, now) as { id: number; strikes: number }[]) {
        if (expired.strikes >= request.maxStrikes)
          this.sql.recoverDead.run(
            now,
            JSON.stringify(crashLoopFault(expired.strikes)),
            expired.id,
          );
        else this.sql.recoverWaiting.run(expired.id);
        this.sql.trimHistory.run(expired.id);
      }
      const token = `${this.tokenPrefix}.${++this.tokenCounter}`;
      const rows = this.sql.claim.all({
        token,
        workerId: request.workerId,
        now,
        leaseUntil: now + request.leaseMs,
        queue,
        limit: request.limit,
        // SQLite reads a negative LIMIT as "no limit".
        maxStruck:
          request.maxStruck === undefined || request.maxStruck === Number.POSITIVE_INFINITY
            ? -1
            : request.maxStruck,
      }) as ClaimRow[];
      return rows.sort(claimOrder).map(toClaimed);
    });
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    this.open();
    return this.sql.tx(() =>
      leases
        .filter((l) => this.sql.renew.run(now + leaseMs, l.id, l.token).changes === 0)
        .map((l) => l.id),
    );
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    this.open();
    const result = this.sql.tx(() => {
      const lost: string[] = [];
      // Completions are the bulk of the traffic: those of one claim share a token, one statement each.
      const completions = new Map<string, string[]>();
      for (const o of outcomes) {
        if (o.kind === 'complete') {
          const ids = completions.get(o.token);
          if (ids) ids.push(o.id);
          else completions.set(o.token, [o.id]);
          continue;
        }
        if (this.settleOne(o, now) > 0) this.sql.trimHistory.run(toRowId(o.id));
        else {
          lost.push(o.id);
          if (o.kind === 'release' && o.unstarted)
            this.sql.forgiveLostClaim.run(toRowId(o.id), o.token);
        }
      }
      for (const [token, ids] of completions) {
        if (ids.length === 1) {
          if (this.sql.complete.run(now, ids[0], token).changes === 0) lost.push(ids[0]!);
          continue;
        }
        const applied = new Set(
          (this.sql.completeMany.all(now, JSON.stringify(ids.map(toRowId)), token) as number[]).map(
            String,
          ),
        );
        for (const id of ids) if (!applied.has(id)) lost.push(id);
      }
      return { lost };
    });
    // Checked after the commit, every time (one stat per batch): an outcome written into a file
    // deleted since the last periodic check would be reported applied and vanish at close.
    this.file.check(true);
    return result;
  }

  private settleOne(o: Exclude<Outcome, { kind: 'complete' }>, now: number): number {
    switch (o.kind) {
      case 'retry':
        return this.sql.retry.run(o.runAt, JSON.stringify(o.record), o.id, o.token).changes;
      case 'dead':
        return this.sql.dead.run(
          now,
          JSON.stringify(o.fault),
          JSON.stringify(o.record),
          o.id,
          o.token,
        ).changes;
      case 'release':
        return this.sql.release.run({
          runAt: o.runAt ?? now,
          refund: o.refund || o.unstarted ? 1 : 0,
          unstarted: o.unstarted ? 1 : 0,
          record: o.record ? JSON.stringify(o.record) : null,
          id: o.id,
          token: o.token,
        }).changes;
    }
  }

  async saveJobCheckpoint(lease: LeaseRef, checkpoint: string): Promise<boolean> {
    this.open();
    return this.sql.saveCheckpoint.run(checkpoint, lease.id, lease.token).changes > 0;
  }

  async pause(queue: string, until: number | null, now: number, replace = false): Promise<void> {
    this.open();
    this.sql.tx(() => {
      const row = this.sql.getPause.get(queue) as { paused_until: number | null } | undefined;
      const next = mergePause(decodeUntil(row?.paused_until ?? null), until, now, replace);
      this.sql.setPause.run(queue, encodeUntil(next));
    });
  }

  async resume(queue: string): Promise<void> {
    this.open();
    this.sql.setPause.run(queue, null);
  }

  async stats(queue: string, now: number): Promise<QueueCounts> {
    this.open();
    return this.sql.read(() => {
      const row = this.sql.stats.get({ now, queue }) as Record<string, number | null>;
      const paused = this.sql.getPause.get(queue) as { paused_until: number | null } | undefined;
      return {
        waiting: row.waiting ?? 0,
        delayed: row.delayed ?? 0,
        running: row.running ?? 0,
        completed: row.completed ?? 0,
        dead: row.dead ?? 0,
        pausedUntil: pauseInForce(decodeUntil(paused?.paused_until ?? null), now),
        oldestWaitingSince: row.oldest ?? null,
      };
    });
  }

  async queues(): Promise<string[]> {
    this.open();
    return (this.sql.queues.all() as { name: string }[]).map((r) => r.name);
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.open();
    const row = this.sql.getJob.get(toRowId(id)) as JobRow | undefined;
    return row && toRecord(row);
  }

  async listDead(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    this.open();
    return this.selectDead(query, '*').map((row) => toDeadLetter(row as JobRow));
  }

  async countDeadByCategory(query: DeadLetterQuery = {}): Promise<CategoryCount[]> {
    this.open();
    const { where, args } = deadFilter({ ...query, before: undefined });
    // A text filter reads every match's fault: in the dead index's order (finished_at, which
    // follows insertion) the rows come nearly in table order, four times faster than by category.
    const from =
      query.text === undefined ? 'faultline_jobs' : 'faultline_jobs INDEXED BY faultline_jobs_dead';
    const sql = `SELECT ${CATEGORY} AS category, count(*) AS count FROM ${from} WHERE ${where}
      GROUP BY ${CATEGORY} ORDER BY count DESC, category`;
    return this.db.prepare(sql).all(...args) as { category: FaultCategory; count: number }[];
  }

  async finishedPerBucket(request: ThroughputRequest): Promise<Throughput> {
    this.open();
    const { since, bucketMs, buckets } = checkThroughputRequest(request);
    const completed = new Array<number>(buckets).fill(0);
    const dead = new Array<number>(buckets).fill(0);
    this.sql.read(() => {
      // One range scan of the finished index per queue (it leads with the queue).
      const queues =
        request.queue === undefined
          ? (this.sql.finishedQueues.all() as { queue: string }[]).map((r) => r.queue)
          : [request.queue];
      for (const queue of queues) {
        for (const [state, counts] of [
          [2, completed],
          [3, dead],
        ] as const) {
          const rows = this.sql.finishedPerBucket.all({
            queue,
            state,
            since,
            until: since + bucketMs * buckets,
            bucketMs,
          }) as { bucket: number; count: number }[];
          for (const row of rows) counts[row.bucket]! += row.count;
        }
      }
    });
    return { completed, dead };
  }

  async requeueDead(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): Promise<string[]> {
    this.open();
    return this.sql.tx(() => {
      let ids: string[];
      if ('ids' in selector) {
        ids = [...selector.ids];
        for (const id of ids) {
          const row = this.sql.getState.get(toRowId(id)) as { state: number } | undefined;
          if (row?.state !== 3) throw new JobNotFoundError(id, 'dead letter');
        }
      } else {
        ids = this.selectDead(selector.query, 'id').map((row) => String(row.id));
      }
      if (!options.dryRun) for (const id of ids) this.sql.requeue.run(options.now, toRowId(id));
      return ids;
    });
  }

  async purgeDead(query: PurgeQuery): Promise<number> {
    this.open();
    return this.sql.tx(() => {
      const { keepNewest, ...filter } = query;
      const ids = this.selectDead(filter, 'id').map((row) => row.id);
      const doomed = keepNewest === undefined ? ids : ids.slice(keepNewest);
      for (const id of doomed) this.sql.deleteJob.run(id);
      return doomed.length;
    });
  }

  async prune(
    retention: RetentionPolicy,
    now: number,
  ): Promise<{ completed: number; dead: number }> {
    this.open();
    return this.sql.tx(() => {
      const queues = (this.sql.finishedQueues.all() as { queue: string }[]).map((r) => r.queue);
      let completed = 0;
      let dead = 0;
      for (const queue of queues) {
        completed += this.pruneState(queue, 2, retention.completed, now);
        dead += this.pruneState(queue, 3, retention.dead, now);
      }
      return { completed, dead };
    });
  }

  async getCheckpoint(key: string): Promise<CheckpointRecord | undefined> {
    this.open();
    const row = this.sql.getCheckpoint.get(key) as
      | { key: string; value: string; updated_at: number }
      | undefined;
    return row && { key: row.key, value: row.value, updatedAt: row.updated_at };
  }

  async putCheckpoint(key: string, value: string, now: number): Promise<void> {
    this.open();
    this.sql.putCheckpoint.run(key, value, now);
  }

  async deleteCheckpoint(key: string): Promise<boolean> {
    this.open();
    return this.sql.deleteCheckpoint.run(key).changes > 0;
  }

  async listCheckpoints(prefix = ''): Promise<CheckpointRecord[]> {
    this.open();
    const rows = this.sql.listCheckpoints.all(prefix.length, prefix) as {
      key: string;
      value: string;
      updated_at: number;
    }[];
    return rows.map((row) => ({ key: row.key, value: row.value, updatedAt: row.updated_at }));
  }

  /** Answers when the file is still the one opened and readable (a health check). */
  async ping(): Promise<void> {
    this.open(true);
    this.sql.ping.get();
  }

  /**
   * Runs `PRAGMA integrity_check` and returns what it found; never throws for a damaged file
   * (SQLite may raise SQLITE_CORRUPT instead of listing problems: that is a problem too).
   */
  integrityCheck(): IntegrityReport {
    this.open(true);
    try {
      const rows = (this.db.pragma('integrity_check') as { integrity_check: string }[]).map(
        (r) => r.integrity_check,
      );
      return rows.length === 1 && rows[0] === 'ok'
        ? { ok: true, problems: [] }
        : { ok: false, problems: rows };
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return {
        ok: false,
        problems: [`${typeof code === 'string' ? `${code}: ` : ''}${(error as Error).message}`],
      };
    }
  }

  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }

  /** Refuses a call on a closed store, or on one whose file was deleted or replaced (checked every fileCheckMs, or now). */
  private open(checkFileNow = false): void {
    if (this.closed) throw new Error(`The SQLite store ${this.path} is closed`);
    this.file.check(checkFileNow);
  }

  private pruneState(queue: string, state: 2 | 3, bound: RetentionBound, now: number): number {
    let removed = 0;
    if (bound.maxAgeMs !== Number.POSITIVE_INFINITY)
      removed += this.sql.pruneAge.run(queue, state, now - bound.maxAgeMs).changes;
    if (bound.maxCount !== Number.POSITIVE_INFINITY)
      removed += this.sql.pruneCount.run(queue, state, bound.maxCount).changes;
    return removed;
  }

  /** Dead letters matching the query, newest first (then by id, descending). */
  private selectDead(query: DeadLetterQuery, columns: '*' | 'id'): { id: number }[] {
    const { where, args } = deadFilter(query);
    const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    const sql = `SELECT ${columns} FROM faultline_jobs WHERE ${where} ORDER BY finished_at DESC, id DESC${limit}`;
    return this.db.prepare(sql).all(...args) as { id: number }[];
  }
}

const GUARDED = [
  'enqueue',
  'claim',
  'renew',
  'settle',
  'saveJobCheckpoint',
  'pause',
  'resume',
  'stats',
  'queues',
  'getJob',
  'listDead',
  'countDeadByCategory',
  'finishedPerBucket',
  'requeueDead',
  'purgeDead',
  'prune',
  'getCheckpoint',
  'putCheckpoint',
  'deleteCheckpoint',
  'listCheckpoints',
  'ping',
] as const satisfies readonly (keyof SqliteStore)[];

/** The category of a dead letter, as the expression of the `faultline_jobs_dead_category` index. */
const CATEGORY = "json_extract(fault, '$.category')";

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

function toRowId(id: string): number {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : -1;
}
