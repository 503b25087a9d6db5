import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type pg from 'pg';
import { scoped } from '../../validate/scoped.js';
import { checkThroughputRequest } from '../../durable/dead-letter-rules.js';
import { NotAFaultlineStoreError } from '../../durable/errors.js';
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
  StoreEnqueueOptions,
  Throughput,
  ThroughputRequest,
} from '../../durable/store.js';
import { crashLoopFault } from '../../durable/store-rules.js';
import type { Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import * as checkpoints from './checkpoints.js';
import { type PoolHandle, type Queryable, resolvePool, withClient } from './connection.js';
import * as dead from './dead-letters.js';
import { toPostgresStoreError } from './errors.js';
import { enqueueJobs } from './enqueue.js';
import { claimJobs, type LeaseContext, renewLeases, settleOutcomes } from './leases.js';
import { WakeupChannel } from './notifications.js';
import type { PostgresStoreOptions } from './options.js';
import * as state from './queue-state.js';
import { inspectSchema, migrate, SCHEMA_VERSION } from './schema.js';
import { buildStatements, type Statements } from './statements.js';

/** Every option error names the option from `postgresStore`. */
const check = scoped('postgresStore');

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * The durable store on PostgreSQL. Claims take rows with `FOR UPDATE SKIP LOCKED` (many workers
 * never wait on each other), every batch is one statement over arrays, and wake-ups travel by
 * NOTIFY from the writing transaction. Jobs can be enqueued inside the caller's own transaction.
 */
export class PostgresStore implements DurableStore {
  readonly kind = 'postgres';
  readonly schema: string;
  /** The pool in use (yours if you passed one). */
  readonly pool: pg.Pool;
  private readonly handle: PoolHandle;
  private readonly sql: Statements;
  private readonly clock: Clock;
  private readonly autoMigrate: boolean;
  private readonly leases: LeaseContext;
  private readonly wakeups: WakeupChannel | undefined;
  private readonly tokenPrefix = randomBytes(6).toString('base64url');
  private tokenCounter = 0;
  private ready: Promise<void> | undefined;
  private isReady = false;
  private closed = false;

  /** Makes the store; the schema is checked (and migrated) on first use. See `PostgresStore.open`. */
  constructor(options: PostgresStoreOptions) {
    const opts = check.plainObject('options', options);
    check.knownKeys('options', opts, [
      'connectionString',
      'pool',
      'poolOptions',
      'schema',
      'migrate',
      'databaseClock',
      'asyncClaimCommit',
      'listen',
      'clock',
    ]);
    const schema = options.schema ?? 'faultline';
    if (typeof schema !== 'string' || !SCHEMA_NAME.test(schema))
      throw check.configError(
        'schema',
        schema,
        'a schema name of letters, digits and _ (at most 48)',
      );
    this.schema = schema;
    this.autoMigrate = options.migrate ?? true;
    this.clock = options.clock ?? systemClock;
    this.handle = resolvePool(options);
    this.pool = this.handle.pool;
    this.sql = buildStatements(schema);
    this.leases = {
      sql: this.sql,
      prefix: `faultline.${schema}`,
      crashFault: JSON.stringify(crashLoopFault(-123456789)),
      databaseClock: options.databaseClock ?? true,
      asyncClaimCommit: options.asyncClaimCommit === true,
    };
    this.wakeups =
      options.listen === false
        ? undefined
        : new WakeupChannel(this.pool, this.sql.channel, this.clock);
  }

  /** Makes the store and waits until its schema is ready (created or migrated under an advisory lock). */
  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(options);
    try {
      await store.prepare();
    } catch (error) {
      await store.close();
      // The same typed, scrubbed error as any later call would throw.
      throw toPostgresStoreError(error, store.handle);
    }
    return store;
  }

  /** Checks and migrates the schema once; a failure (server down) is retried by the next call. */
  prepare(): Promise<void> {
    this.ready ??= this.migrateOnce().then(
      () => {
        this.isReady = true;
      },
      (error: unknown) => {
        this.ready = undefined;
        throw error;
      },
    );
    return this.ready;
  }

  async enqueue(
    jobs: readonly NewJob[],
    now: number,
    options?: StoreEnqueueOptions,
  ): Promise<EnqueueResult[]> {
    const tx = options?.tx;
    if (
      tx !== undefined &&
      (typeof tx !== 'object' || tx === null || typeof tx.query !== 'function')
    ) {
      throw check.configError(
        'tx',
        tx,
        'a node-postgres client inside BEGIN, or an object with query(text, values)',
      );
    }
    return this.guard((db) =>
      tx === undefined
        ? enqueueJobs(db, this.sql, jobs, now, this.leases.prefix)
        : enqueueJobs(tx, this.sql, jobs, now),
    );
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    const token = `${this.tokenPrefix}.${++this.tokenCounter}`;
    return this.guard((db) => claimJobs(db, this.leases, request, token));
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.guard((db) => renewLeases(db, this.leases, leases, leaseMs, now));
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    if (outcomes.length === 0) return { lost: [] };
    return this.guard((db) => settleOutcomes(db, this.leases, outcomes, now));
  }

  async saveJobCheckpoint(lease: LeaseRef, checkpoint: string, _now: number): Promise<boolean> {
    return this.guard((db) => checkpoints.saveJobCheckpoint(db, this.sql, lease, checkpoint));
  }

  async pause(queue: string, until: number | null, now: number, replace = false): Promise<void> {
    return this.guard((db) => state.pauseQueue(db, this.sql, queue, until, now, replace));
  }

  async resume(queue: string): Promise<void> {
    return this.guard((db) => state.resumeQueue(db, this.sql, queue));
  }

  async stats(queue: string, now: number): Promise<QueueCounts> {
    return this.guard((db) => state.queueStats(db, this.sql, queue, now));
  }

  async leaseHolders(now: number): Promise<LeaseHolder[]> {
    return this.guard(
      async (db) => (await db.query(this.sql.leaseHolders, [now])).rows as LeaseHolder[],
    );
  }

  async queues(): Promise<string[]> {
    return this.guard((db) => state.queueNames(db, this.sql));
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.guard((db) => state.getJob(db, this.sql, id));
  }

  async listDead(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return this.guard((db) => dead.listDead(db, this.sql, query));
  }

  async countDeadByCategory(query: DeadLetterQuery = {}): Promise<CategoryCount[]> {
    return this.guard((db) => dead.countDeadByCategory(db, this.sql, query));
  }

  async finishedPerBucket(request: ThroughputRequest): Promise<Throughput> {
    const checked = checkThroughputRequest(request);
    return this.guard((db) =>
      dead.finishedPerBucket(db, this.sql, { ...checked, queue: request.queue }),
    );
  }

  async requeueDead(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): Promise<string[]> {
    return this.transaction((db) => dead.requeueDead(db, this.sql, selector, options));
  }

  async purgeDead(query: PurgeQuery): Promise<number> {
    return this.transaction((db) => dead.purgeDead(db, this.sql, query));
  }

  async prune(
    retention: RetentionPolicy,
    now: number,
  ): Promise<{ completed: number; dead: number }> {
    return this.transaction((db) => state.prune(db, this.sql, retention, now));
  }

  async getCheckpoint(key: string): Promise<CheckpointRecord | undefined> {
    return this.guard((db) => checkpoints.getCheckpoint(db, this.sql, key));
  }

  async putCheckpoint(key: string, value: string, now: number): Promise<void> {
    return this.guard((db) => checkpoints.putCheckpoint(db, this.sql, key, value, now));
  }

  async deleteCheckpoint(key: string): Promise<boolean> {
    return this.guard((db) => checkpoints.deleteCheckpoint(db, this.sql, key));
  }

  async listCheckpoints(prefix = ''): Promise<CheckpointRecord[]> {
    return this.guard((db) => checkpoints.listCheckpoints(db, this.sql, prefix));
  }

  async ping(): Promise<void> {
    return this.guard(async (db) => {
      await db.query('SELECT 1');
    });
  }

  onWake(queue: string, listener: () => void): () => void {
    if (this.wakeups === undefined || this.closed) return () => {};
    return this.wakeups.subscribe(queue, listener);
  }

  /** Whether the LISTEN connection is up (false when `listen: false` or while it reconnects). */
  get listening(): boolean {
    return this.wakeups?.listening ?? false;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.wakeups?.close();
    if (!this.handle.owned) return;
    // Ending waits for connections in use; a frozen server must not hold close() up for long.
    await Promise.race([
      this.pool.end().catch(() => undefined),
      this.clock.sleep(2_000, undefined, { unref: true }),
    ]);
  }

  toString(): string {
    return `PostgresStore(${this.handle.target}, schema ${JSON.stringify(this.schema)})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): { kind: string; target: string; schema: string } {
    return { kind: this.kind, target: this.handle.target, schema: this.schema };
  }

  private async migrateOnce(): Promise<void> {
    const location = `${this.handle.target} schema ${this.schema}`;
    await withClient(this.pool, async (client) => {
      if (this.autoMigrate) {
        await migrate(client, this.schema, location);
        return;
      }
      const version = await inspectSchema(client, this.schema, location);
      if (version < SCHEMA_VERSION) {
        throw new NotAFaultlineStoreError(
          location,
          `its schema is at version ${version}, this faultline needs ${SCHEMA_VERSION}: run \`faultline migrate\``,
        );
      }
    });
  }

  /** Runs a call on the pool; a closed store refuses, and errors leave without credentials in them. */
  private async guard<T>(call: (db: Queryable) => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`The PostgreSQL store ${this.handle.target} is closed`);
    try {
      if (!this.isReady) await this.prepare();
      return await call(this.pool as Queryable);
    } catch (error) {
      throw toPostgresStoreError(error, this.handle);
    }
  }

  /** Runs `call` in one transaction on one connection. */
  private async transaction<T>(call: (db: Queryable) => Promise<T>): Promise<T> {
    return this.guard(() =>
      withClient(this.pool, async (client) => {
        await client.query('BEGIN');
        try {
          const result = await call(client as Queryable);
          await client.query('COMMIT');
          return result;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }),
    );
  }
}
