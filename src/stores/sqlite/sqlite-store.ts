import type Database from 'better-sqlite3';
import { scoped } from '../../validate/scoped.js';
import { checkThroughputRequest } from '../../durable/dead-letter-rules.js';
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
  LeaseHolder,
  LeaseRef,
  NewJob,
  Outcome,
  PurgeQuery,
  QueueCounts,
  RetentionPolicy,
  SettleResult,
  Throughput,
  ThroughputRequest,
  StoreEnqueueOptions,
} from '../../durable/store.js';
import { loadPeer } from '../../peers/optional-peer.js';
import {
  decodeUntil,
  encodeUntil,
  mergePause,
  pauseInForce,
  refuseTransaction,
} from '../../durable/store-rules.js';
import { SqliteDeadLetters } from './dead-letters.js';
import { SqliteLeases } from './leases.js';
import { SqliteJobWriter } from './enqueue.js';
import { finishedPerBucket, prune } from './finished-jobs.js';
import { integrityCheck, type IntegrityReport } from './integrity.js';
import type { SqliteStoreOptions } from './options.js';
import { type JobRow, toRecord, toRowId } from './rows.js';
import { inspectSchema, migrate } from './schema.js';
import { prepareStatements, type Statements } from './statements.js';
import { DamageLatch, GUARDED_CALLS } from './damage-latch.js';
import {
  accessError,
  checkStorePath,
  checkWritableFile,
  FileIdentity,
  isAccessFailure,
} from './file-identity.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

/** Every option error names the option from `sqliteStore`. */
const check = scoped('sqliteStore');

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
  private readonly dead: SqliteDeadLetters;
  private readonly leases: SqliteLeases;
  private readonly writer: SqliteJobWriter;
  private readonly file: FileIdentity;
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
    check.knownKeys('options', opts, ['synchronous', 'busyTimeoutMs', 'fileCheckMs', 'driver']);
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
      throw check.configError('driver', '(not a function)', 'the better-sqlite3 module');
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
    this.damage.guard(this, GUARDED_CALLS);
    this.dead = new SqliteDeadLetters(this.db, this.sql);
    this.leases = new SqliteLeases(this.sql);
    this.writer = new SqliteJobWriter(this.db, this.sql);
  }

  async enqueue(
    jobs: readonly NewJob[],
    now: number,
    options?: StoreEnqueueOptions,
  ): Promise<EnqueueResult[]> {
    refuseTransaction('SQLite', options);
    this.open();
    return this.sql.tx(() => this.writer.write(jobs, now));
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    this.open();
    return this.leases.claim(request);
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    this.open();
    return this.leases.renew(leases, leaseMs, now);
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    this.open();
    const result = this.leases.settle(outcomes, now);
    // Checked after the commit, every time (one stat per batch): an outcome written into a file
    // deleted since the last periodic check would be reported applied and vanish at close.
    this.file.check(true);
    return result;
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

  async leaseHolders(now: number): Promise<LeaseHolder[]> {
    this.open();
    return this.sql.leaseHolders.all(now) as LeaseHolder[];
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
    return this.dead.list(query);
  }

  async countDeadByCategory(query: DeadLetterQuery = {}): Promise<CategoryCount[]> {
    this.open();
    return this.dead.countByCategory(query);
  }

  async finishedPerBucket(request: ThroughputRequest): Promise<Throughput> {
    this.open();
    return finishedPerBucket(this.sql, checkThroughputRequest(request));
  }

  async requeueDead(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): Promise<string[]> {
    this.open();
    return this.dead.requeue(selector, options);
  }

  async purgeDead(query: PurgeQuery): Promise<number> {
    this.open();
    return this.dead.purge(query);
  }

  async prune(
    retention: RetentionPolicy,
    now: number,
  ): Promise<{ completed: number; dead: number }> {
    this.open();
    return prune(this.sql, retention, now);
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
   * Runs `PRAGMA integrity_check` and returns what it found; never throws for a damaged file.
   */
  integrityCheck(): IntegrityReport {
    this.open(true);
    return integrityCheck(this.db);
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
}
