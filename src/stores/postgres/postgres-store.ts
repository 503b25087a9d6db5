import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type pg from 'pg';
import * as check from '../../validate/validate.js';
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
import {
  crashLoopFault,
  decodeUntil,
  encodeUntil,
  pauseInForce,
} from '../../durable/store-rules.js';
import { ConfigError } from '../../faults/errors.js';
import type { Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import { checkout } from './checkout.js';
import { type PoolHandle, type Queryable, resolvePool } from './connection.js';
import { toPostgresStoreError } from './errors.js';
import { enqueueJobs } from './enqueue.js';
import { WakeupChannel } from './notifications.js';
import {
  type ClaimRow,
  claimOrder,
  type JobRow,
  leaseKey,
  sortById,
  toClaimed,
  toRecord,
  toRowId,
} from './rows.js';
import { migrate, SCHEMA_VERSION, inspectSchema } from './schema.js';
import type { PostgresStoreOptions } from './options.js';
import { buildStatements, type Statements } from './statements.js';
import * as dead from './dead-letters.js';

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
  private readonly databaseClock: boolean;
  private readonly asyncClaimCommit: boolean;
  private readonly wakeups: WakeupChannel | undefined;
  private readonly tokenPrefix = randomBytes(6).toString('base64url');
  private readonly crashFault = JSON.stringify(crashLoopFault(-123456789));
  private tokenCounter = 0;
  private ready: Promise<void> | undefined;
  private isReady = false;
  private closed = false;

  /** Makes the store; the schema is checked (and migrated) on first use. See `PostgresStore.open`. */
  constructor(options: PostgresStoreOptions) {
    const opts = check.plainObject('options', options);
    check.knownKeys('postgres', opts, [
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
      throw new ConfigError(
        'schema',
        schema,
        'a schema name of letters, digits and _ (at most 48)',
      );
    this.schema = schema;
    this.autoMigrate = options.migrate ?? true;
    this.databaseClock = options.databaseClock ?? true;
    this.asyncClaimCommit = options.asyncClaimCommit === true;
    this.clock = options.clock ?? systemClock;
    this.handle = resolvePool(options);
    this.pool = this.handle.pool;
    this.sql = buildStatements(schema);
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
      throw error;
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
      throw new ConfigError(
        'tx',
        tx,
        'a node-postgres client inside BEGIN, or an object with query(text, values)',
      );
    }
    return this.guard((db) => enqueueJobs(tx ?? db, this.sql, jobs, now));
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    return this.guard(async (db) => {
      const token = `${this.tokenPrefix}.${++this.tokenCounter}`;
      const { rows } = await db.query({
        name: `faultline.${this.schema}.claim`,
        text: this.sql.claim,
        values: [
          request.queue,
          request.workerId,
          request.limit,
          request.leaseMs,
          request.now,
          request.maxStrikes,
          token,
          this.crashFault,
          this.databaseClock,
          this.asyncClaimCommit,
          // NULL is "no limit" to LIMIT.
          request.maxStruck === undefined || request.maxStruck === Number.POSITIVE_INFINITY
            ? null
            : request.maxStruck,
        ],
      });
      return (rows as ClaimRow[])
        .sort(claimOrder)
        .map((row) => toClaimed(row, request.queue, token));
    });
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    if (leases.length === 0) return [];
    return this.guard(async (db) => {
      const valid = sortById(leases.filter((l) => toRowId(l.id) !== null));
      const { rows } = await db.query({
        name: `faultline.${this.schema}.renew`,
        text: this.sql.renew,
        values: [
          valid.map((l) => l.id),
          valid.map((l) => l.token),
          now,
          leaseMs,
          this.databaseClock,
        ],
      });
      const held = new Set((rows as LeaseRef[]).map(leaseKey));
      return leases.filter((l) => !held.has(leaseKey(l))).map((l) => l.id);
    });
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    if (outcomes.length === 0) return { lost: [] };
    // A lost unstarted hand-back may take its strike back (a second statement): then one transaction.
    const forgiving = outcomes.some((o) => o.kind === 'release' && o.unstarted === true);
    return (forgiving ? this.transaction.bind(this) : this.guard.bind(this))(async (db) => {
      const valid = sortById(outcomes.filter((o) => toRowId(o.id) !== null));
      const { rows } = await db.query({
        name: `faultline.${this.schema}.settle`,
        text: this.sql.settle,
        values: [
          valid.map((o) => o.kind),
          now,
          valid.map((o) => o.id),
          valid.map((o) => o.token),
          valid.map((o) =>
            o.kind === 'retry' ? o.runAt : o.kind === 'release' ? (o.runAt ?? null) : null,
          ),
          valid.map((o) => o.kind === 'release' && o.refund),
          valid.map((o) =>
            o.kind === 'complete' || o.record === undefined ? null : JSON.stringify(o.record),
          ),
          valid.map((o) => (o.kind === 'dead' ? JSON.stringify(o.fault) : null)),
          this.sql.channel,
          valid.map((o) => o.kind === 'release' && o.unstarted === true),
        ],
      });
      // By id and token: a batch may hold a stale run's outcome next to the current run's for one job.
      const applied = new Set((rows as LeaseRef[]).map(leaseKey));
      const lost = outcomes.filter((o) => !applied.has(leaseKey(o)));
      const forgiven = sortById(
        lost.filter((o) => o.kind === 'release' && o.unstarted === true && toRowId(o.id) !== null),
      );
      if (forgiven.length > 0)
        await db.query(this.sql.forgiveLostClaims, [
          forgiven.map((o) => o.id),
          forgiven.map((o) => o.token),
        ]);
      return { lost: lost.map((o) => o.id) };
    });
  }

  async saveJobCheckpoint(lease: LeaseRef, checkpoint: string, _now: number): Promise<boolean> {
    const id = toRowId(lease.id);
    if (id === null) return false;
    return this.guard(
      async (db) =>
        ((await db.query(this.sql.saveCheckpoint, [id, lease.token, checkpoint])).rowCount ?? 0) >
        0,
    );
  }

  async pause(queue: string, until: number | null, now: number, replace = false): Promise<void> {
    return this.guard(async (db) => {
      await db.query(this.sql.pause, [
        queue,
        encodeUntil(until === null ? Number.POSITIVE_INFINITY : until),
        now,
        replace,
      ]);
    });
  }

  async resume(queue: string): Promise<void> {
    return this.guard(async (db) => {
      await db.query(this.sql.resume, [queue, this.sql.channel]);
    });
  }

  async stats(queue: string, now: number): Promise<QueueCounts> {
    return this.guard(async (db) => {
      const row = (await db.query(this.sql.stats, [queue, now])).rows[0] as Record<
        string,
        string | null
      >;
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
    });
  }

  async queues(): Promise<string[]> {
    return this.guard(async (db) =>
      ((await db.query(this.sql.queues)).rows as { name: string }[]).map((r) => r.name),
    );
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    const rowId = toRowId(id);
    if (rowId === null) return undefined;
    return this.guard(async (db) => {
      const row = (await db.query(this.sql.getJob, [rowId])).rows[0] as JobRow | undefined;
      return row && toRecord(row);
    });
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
    return this.transaction(async (db) => {
      const removed = { completed: 0, dead: 0 };
      for (const [name, state] of [
        ['completed', 2],
        ['dead', 3],
      ] as const) {
        const bound = retention[name];
        if (bound.maxAgeMs !== Number.POSITIVE_INFINITY)
          removed[name] +=
            (await db.query(this.sql.pruneAge, [state, now - bound.maxAgeMs])).rowCount ?? 0;
        if (bound.maxCount !== Number.POSITIVE_INFINITY)
          removed[name] +=
            (await db.query(this.sql.pruneCount, [state, bound.maxCount])).rowCount ?? 0;
      }
      return removed;
    });
  }

  async getCheckpoint(key: string): Promise<CheckpointRecord | undefined> {
    return this.guard(async (db) => {
      const row = (await db.query(this.sql.getCheckpoint, [key])).rows[0] as
        | { key: string; value: string; updated_at: string }
        | undefined;
      return row && { key: row.key, value: row.value, updatedAt: Number(row.updated_at) };
    });
  }

  async putCheckpoint(key: string, value: string, now: number): Promise<void> {
    return this.guard(async (db) => {
      await db.query(this.sql.putCheckpoint, [key, value, now]);
    });
  }

  async deleteCheckpoint(key: string): Promise<boolean> {
    return this.guard(
      async (db) => ((await db.query(this.sql.deleteCheckpoint, [key])).rowCount ?? 0) > 0,
    );
  }

  async listCheckpoints(prefix = ''): Promise<CheckpointRecord[]> {
    return this.guard(async (db) => {
      const rows = (await db.query(this.sql.listCheckpoints, [prefix])).rows as {
        key: string;
        value: string;
        updated_at: string;
      }[];
      return rows.map((row) => ({
        key: row.key,
        value: row.value,
        updatedAt: Number(row.updated_at),
      }));
    });
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
    const { client, release } = await checkout(this.pool);
    try {
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
    } finally {
      release();
    }
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
    return this.guard(async () => {
      const { client, release } = await checkout(this.pool);
      try {
        await client.query('BEGIN');
        const result = await call(client as Queryable);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        release();
      }
    });
  }
}
