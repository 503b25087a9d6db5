import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import * as check from '../../validate/validate.js';
import { JobNotFoundError } from '../../durable/errors.js';
import { ConfigError } from '../../faults/errors.js';
import type {
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
} from '../../durable/store.js';
import { loadPeer } from '../../peers/optional-peer.js';
import { crashLoopFault, decodeUntil, encodeUntil, mergePause, pauseInForce } from '../../durable/store-rules.js';
import { type ClaimRow, claimOrder, type JobRow, toClaimed, toDeadLetter, toRecord } from './rows.js';
import { inspectSchema, migrate } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
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
  private readonly tokenPrefix = randomBytes(6).toString('base64url');
  private tokenCounter = 0;
  private closed = false;

  /**
   * Opens (or creates) the store at `path`. Throws NotAFaultlineStoreError for a file that is not
   * SQLite or holds other tables, SchemaVersionError for a newer faultline's file; nothing is
   * written to either.
   */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    if (typeof path !== 'string' || path.length === 0) throw new ConfigError('path', path, 'a file path');
    const opts = check.plainObject('options', options);
    check.knownKeys('sqlite', opts, ['synchronous', 'busyTimeoutMs', 'driver']);
    const synchronous = check.oneOf('synchronous', options.synchronous ?? 'NORMAL', ['NORMAL', 'FULL']);
    const busyTimeoutMs = check.nonNegativeInteger('busyTimeoutMs', options.busyTimeoutMs ?? 5_000);
    this.path = path;
    const driver = options.driver ?? loadPeer<typeof Database>('better-sqlite3');
    if (typeof driver !== 'function') throw new ConfigError('driver', '(not a function)', 'the better-sqlite3 module');
    this.db = new driver(path);
    try {
      this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
      inspectSchema(this.db, path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${synchronous}`);
      migrate(this.db, path, Date.now());
    } catch (error) {
      this.db.close();
      throw error;
    }
    this.sql = prepareStatements(this.db);
  }

  async enqueue(jobs: readonly NewJob[], now: number): Promise<EnqueueResult[]> {
    this.open();
    return this.sql.tx(() => {
      const results: EnqueueResult[] = [];
      for (const job of jobs) {
        if (job.idempotencyKey !== undefined) {
          const existing = this.sql.findByKey.get(job.queue, job.idempotencyKey) as { id: number } | undefined;
          if (existing) {
            results.push({ id: String(existing.id), created: false });
            continue;
          }
        }
        const info = this.sql.insert.run(job.queue, job.payload, job.priority, job.runAt, now, job.maxAttempts ?? null, job.idempotencyKey ?? null);
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
        if (expired.strikes >= request.maxStrikes) this.sql.recoverDead.run(now, JSON.stringify(crashLoopFault(expired.strikes)), expired.id);
        else this.sql.recoverWaiting.run(expired.id);
      }
      const token = `${this.tokenPrefix}.${++this.tokenCounter}`;
      const rows = this.sql.claim.all(token, request.workerId, now, now + request.leaseMs, queue, now, request.limit) as ClaimRow[];
      return rows.sort(claimOrder).map(toClaimed);
    });
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    this.open();
    return this.sql.tx(() => leases.filter((l) => this.sql.renew.run(now + leaseMs, l.id, l.token).changes === 0).map((l) => l.id));
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    this.open();
    return this.sql.tx(() => {
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
        if (this.settleOne(o, now) === 0) lost.push(o.id);
      }
      for (const [token, ids] of completions) {
        if (ids.length === 1) {
          if (this.sql.complete.run(now, ids[0], token).changes === 0) lost.push(ids[0]!);
          continue;
        }
        const applied = new Set((this.sql.completeMany.all(now, JSON.stringify(ids.map(toRowId)), token) as number[]).map(String));
        for (const id of ids) if (!applied.has(id)) lost.push(id);
      }
      return { lost };
    });
  }

  private settleOne(o: Exclude<Outcome, { kind: 'complete' }>, now: number): number {
    switch (o.kind) {
      case 'retry':
        return this.sql.retry.run(o.runAt, JSON.stringify(o.record), o.id, o.token).changes;
      case 'dead':
        return this.sql.dead.run(now, JSON.stringify(o.fault), JSON.stringify(o.record), o.id, o.token).changes;
      case 'release':
        return this.sql.release.run({
          runAt: o.runAt ?? now,
          refund: o.refund ? 1 : 0,
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

  async requeueDead(selector: DeadLetterSelector, options: { readonly now: number; readonly dryRun?: boolean }): Promise<string[]> {
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

  async prune(retention: RetentionPolicy, now: number): Promise<{ completed: number; dead: number }> {
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
    const row = this.sql.getCheckpoint.get(key) as { key: string; value: string; updated_at: number } | undefined;
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
    const rows = this.sql.listCheckpoints.all(prefix.length, prefix) as { key: string; value: string; updated_at: number }[];
    return rows.map((row) => ({ key: row.key, value: row.value, updatedAt: row.updated_at }));
  }

  async ping(): Promise<void> {
    this.open();
    this.sql.ping.get();
  }

  /** Runs `PRAGMA integrity_check`; returns "ok" or the problems found. */
  integrityCheck(): string {
    this.open();
    return (this.db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join('\n');
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

  private open(): void {
    if (this.closed) throw new Error(`The SQLite store ${this.path} is closed`);
  }

  private pruneState(queue: string, state: 2 | 3, bound: RetentionBound, now: number): number {
    let removed = 0;
    if (bound.maxAgeMs !== Number.POSITIVE_INFINITY) removed += this.sql.pruneAge.run(queue, state, now - bound.maxAgeMs).changes;
    if (bound.maxCount !== Number.POSITIVE_INFINITY) removed += this.sql.pruneCount.run(queue, state, bound.maxCount).changes;
    return removed;
  }

  /** Dead letters matching the query, newest first. */
  private selectDead(query: DeadLetterQuery, columns: '*' | 'id'): { id: number }[] {
    const where = ['state = 3'];
    const args: unknown[] = [];
    const filter = (condition: string, value: unknown) => {
      if (value === undefined) return;
      where.push(condition);
      args.push(value);
    };
    filter('queue = ?', query.queue);
    filter("json_extract(fault, '$.category') = ?", query.category);
    filter('finished_at <= ?', query.olderThan);
    filter('finished_at >= ?', query.newerThan);
    const limit = query.limit === undefined ? '' : ` LIMIT ${Math.max(0, Math.floor(query.limit))}`;
    const sql = `SELECT ${columns} FROM faultline_jobs WHERE ${where.join(' AND ')} ORDER BY finished_at DESC, id DESC${limit}`;
    return this.db.prepare(sql).all(...args) as { id: number }[];
  }
}

function toRowId(id: string): number {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : -1;
}
