import { inspect } from 'node:util';
import type * as Ioredis from 'ioredis';
import type { Redis } from 'ioredis';
import * as check from '../../validate/validate.js';
import { JobNotFoundError } from '../../durable/errors.js';
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
  SharedStateReport,
  Throughput,
  ThroughputRequest,
  StoreEnqueueOptions,
} from '../../durable/store.js';
import {
  crashLoopFault,
  decodeUntil,
  encodeUntil,
  refuseTransaction,
} from '../../durable/store-rules.js';
import { ConfigError } from '../../faults/errors.js';
import type { Clock } from '../../time/clock.js';
import { systemClock } from '../../time/system-clock.js';
import { RedisCheckpoints } from './checkpoints.js';
import { createRedisClient, type RedisConnectionOptions } from './connection.js';
import { countDeadByCategory, finishedPerBucket } from './finished-counts.js';
import { leaseHolders } from './lease-holders.js';
import { globalKey } from './keys.js';
import { migrateLegacyPrefix } from './legacy-prefix.js';
import { type DeadRef, readDeadLetters, requeueRefs, selectDeadRefs } from './dead-letters.js';
import { byQueue, groupBy } from './grouping.js';
import { QueueScripts } from './queue-scripts.js';
import { useDriverFor } from './script.js';
import { CLAIM_FIELDS, jobId, parseJobId, toClaimedJob, toJobRecord } from './records.js';
import { toStoreError } from './redis-errors.js';
import { describeRedisTarget, parseRedisUrl, passwordOf } from './url.js';
import { readSharedState } from './shared-state.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

export interface RedisStoreOptions {
  /**
   * `redis://[user:password@]host:port[/db]` (or `rediss://`). Credentials never appear in errors
   * or logs. A database the server does not have is an error (ConfigError naming it), not database 0.
   */
  readonly url?: string;
  /** An ioredis client you own instead of a URL; `close()` leaves it open. */
  readonly client?: Redis;
  /**
   * Every key starts with `{<prefix>:` (default `faultline`). With the default, keys a store from
   * before the rename left under `lifeline` are moved under `faultline` first (docs/redis.md).
   */
  readonly prefix?: string;
  /** Timeouts and reconnects for a client created from `url`. */
  readonly connection?: RedisConnectionOptions;
  /** Only for the bounded wait in `close()` (default: the system clock). */
  readonly clock?: Clock;
  /**
   * The ioredis module to use instead of the installed `ioredis` (for an aliased install, such as
   * `ioredis6: npm:ioredis@6`): it creates the client from `url` and sends the scripts.
   * @defaultValue `require('ioredis')`, loaded when the first store is created
   */
  readonly driver?: typeof Ioredis;
}

/** Deletions per prune script call: bounded so one call never blocks the server for long. */
const PRUNE_BATCH = 2_000;
/** Dead letters requeued or purged per script call (bounded so one call never blocks the server for long). */
const REQUEUE_BATCH = 5_000;

/**
 * The durable store on Redis or Valkey. Every write is one Lua script on one queue's keys, all
 * under the queue's hash tag (so it runs on Redis Cluster too). Calls that span several queues
 * (a settle batch mixing queues, listing dead letters of every queue) run one script per queue.
 */
export class RedisStore implements DurableStore {
  readonly kind = 'redis';
  readonly prefix: string;
  /** The client in use (yours if you passed one). */
  readonly client: Redis;
  private readonly ownsClient: boolean;
  private readonly target: string;
  // An ES private field: not an own key, so no serializer or inspection of the store can reach it.
  readonly #secrets: (string | null | undefined)[];
  private readonly scriptsByQueue = new Map<string, QueueScripts>();
  private readonly registryKey: string;
  private readonly checkpoints: RedisCheckpoints;
  private readonly clock: Clock;
  /** `host:port`, for "connection refused by ...". */
  private readonly address: string;
  /** The database asked for, checked against the server once before the first call. */
  private readonly database: number;
  private databaseChecked = false;
  private databaseCheck: Promise<void> | undefined;
  /** Set when the store can never work (a database the server does not have): every call throws it. */
  private fatal: Error | undefined;
  /** Why the connection is down, as the client last reported it (a command only says "gave up"). */
  private lastConnectionError: unknown;
  private readonly onClientError = (error: unknown) => {
    this.lastConnectionError = error;
  };
  private readonly onClientReady = () => {
    this.lastConnectionError = undefined;
  };
  private closed = false;
  /** False until the keys of a store from before the rename have been looked for (default prefix only). */
  private legacyChecked: boolean;
  private legacyMove: Promise<void> | undefined;

  /** `new RedisStore('redis://host:6379')` or `new RedisStore({ url, prefix, ... })`. */
  constructor(options: RedisStoreOptions | string) {
    if (typeof options === 'string') options = { url: options };
    check.plainObject('options', options);
    check.knownKeys('options', options, [
      'url',
      'client',
      'prefix',
      'connection',
      'clock',
      'driver',
    ]);
    if (options.driver !== undefined && typeof options.driver?.Redis !== 'function')
      throw new ConfigError('driver', '(not an ioredis module)', 'the ioredis module');
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new ConfigError(
        'url',
        options.url === undefined ? undefined : describeRedisTarget(options.url),
        'exactly one of url or client',
      );
    }
    if (
      options.url !== undefined &&
      (typeof options.url !== 'string' || !/^(redis|rediss|valkey|valkeys):\/\//.test(options.url))
    ) {
      throw new ConfigError(
        'url',
        typeof options.url === 'string' ? describeRedisTarget(options.url) : options.url,
        'a redis:// or rediss:// URL',
      );
    }
    // Parsed here so a bad port, no host or a database that is not a number is a ConfigError
    // (Node's own URL error keeps the whole URL, password included, in an enumerable field).
    const parsed = options.url === undefined ? undefined : parseRedisUrl(options.url);
    if (
      options.client !== undefined &&
      typeof (options.client as { evalsha?: unknown }).evalsha !== 'function'
    ) {
      throw new ConfigError('client', '(not an ioredis client)', 'an ioredis client');
    }
    const prefix = options.prefix ?? 'faultline';
    if (typeof prefix !== 'string' || prefix.length === 0)
      throw new ConfigError('prefix', prefix, 'a non-empty string');
    this.prefix = prefix;
    this.legacyChecked = options.prefix !== undefined;
    this.clock = options.clock ?? systemClock;
    if (options.url !== undefined && parsed !== undefined) {
      const url = options.url.replace(/^valkey(s?):/, 'redis$1:');
      this.client = createRedisClient(url, options.connection, options.driver);
      this.ownsClient = true;
      this.target = describeRedisTarget(url);
      this.address = `${parsed.host}:${parsed.port}`;
      this.database = parsed.database;
      this.#secrets = [passwordOf(url)];
    } else {
      this.client = options.client!;
      this.ownsClient = false;
      this.address = `${this.client.options.host ?? '?'}:${this.client.options.port ?? '?'}`;
      this.target = this.address;
      this.database = this.client.options.db ?? 0;
      this.#secrets = [this.client.options.password];
    }
    if (options.driver !== undefined) useDriverFor(this.client, options.driver);
    this.client.on('error', this.onClientError);
    this.client.on('ready', this.onClientReady);
    this.registryKey = globalKey(prefix, 'queues');
    this.checkpoints = new RedisCheckpoints(this.client, globalKey(prefix, 'ckpt'));
  }

  async enqueue(
    jobs: readonly NewJob[],
    now: number,
    options?: StoreEnqueueOptions,
  ): Promise<EnqueueResult[]> {
    refuseTransaction('Redis', options);
    return this.guard(async () => {
      const results: EnqueueResult[] = new Array(jobs.length);
      for (const [queue, indexes] of groupBy(jobs, (job) => job.queue)) {
        const args: (string | number)[] = [now];
        for (const i of indexes) {
          const job = jobs[i]!;
          args.push(
            job.payload,
            job.priority,
            job.runAt,
            job.idempotencyKey ?? '',
            job.maxAttempts ?? '',
            job.headers ?? '',
          );
        }
        const [reply] = await Promise.all([
          this.scripts(queue).run('enqueue', args) as Promise<(string | number)[]>,
          this.register(queue),
        ]);
        indexes.forEach((inputIndex, n) => {
          results[inputIndex] = {
            id: jobId(queue, String(reply[n * 2])),
            created: reply[n * 2 + 1] === 1,
          };
        });
      }
      return results;
    });
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    return this.guard(async () => {
      const reply = (await this.scripts(request.queue).run('claim', [
        request.now,
        request.workerId,
        request.limit,
        request.leaseMs,
        request.maxStrikes,
        // The script puts the job's own number of strikes in place of the marker.
        JSON.stringify(crashLoopFault(-123456789)),
        request.maxStruck === undefined || request.maxStruck === Number.POSITIVE_INFINITY
          ? -1
          : request.maxStruck,
      ])) as (string | null)[];
      const jobs: ClaimedJob[] = [];
      const leaseUntil = Number(reply[0]);
      for (let offset = 1; offset < reply.length; offset += CLAIM_FIELDS)
        jobs.push(toClaimedJob(request.queue, reply, offset, leaseUntil));
      return jobs;
    });
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    return this.guard(async () => {
      const lost: string[] = [];
      for (const [queue, refs] of byQueue(leases, lost)) {
        const args: (string | number)[] = [now, leaseMs];
        for (const { member, item } of refs) args.push(member, item.token);
        const reply = (await this.scripts(queue).run('renew', args)) as string[];
        for (const member of reply) lost.push(jobId(queue, member));
      }
      return lost;
    });
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    return this.guard(async () => {
      const lost: string[] = [];
      for (const [queue, refs] of byQueue(outcomes, lost)) {
        const args: (string | number)[] = [now];
        for (const { member, item } of refs) {
          if (item.kind === 'complete') {
            // Two arguments instead of seven: most outcomes are completions (see settle.lua).
            args.push(member, item.token);
            continue;
          }
          const runAt =
            item.kind === 'retry' ? item.runAt : item.kind === 'release' ? (item.runAt ?? '') : '';
          const refund = item.kind !== 'release' ? 0 : item.unstarted ? 2 : item.refund ? 1 : 0;
          const record = item.record === undefined ? '' : JSON.stringify(item.record);
          const fault = item.kind === 'dead' ? JSON.stringify(item.fault) : '';
          args.push(item.kind, member, item.token, runAt, refund, record, fault);
        }
        const reply = (await this.scripts(queue).run('settle', args)) as string[];
        for (const member of reply) lost.push(jobId(queue, member));
      }
      return { lost };
    });
  }

  async saveJobCheckpoint(lease: LeaseRef, checkpoint: string, _now: number): Promise<boolean> {
    return this.guard(async () => {
      const parsed = parseJobId(lease.id);
      if (!parsed) return false;
      return (
        (await this.scripts(parsed.queue).run('checkpointJob', [
          parsed.member,
          lease.token,
          checkpoint,
        ])) === 1
      );
    });
  }

  async pause(queue: string, until: number | null, now: number, replace = false): Promise<void> {
    return this.guard(async () => {
      const encoded = encodeUntil(until === null ? Number.POSITIVE_INFINITY : until);
      await Promise.all([
        this.scripts(queue).run('pause', [now, encoded, replace ? 1 : 0]),
        this.register(queue),
      ]);
    });
  }

  async resume(queue: string): Promise<void> {
    return this.guard(async () => {
      await this.scripts(queue).run('resume', []);
    });
  }

  async stats(queue: string, now: number): Promise<QueueCounts> {
    return this.guard(async () => {
      const r = (await this.scripts(queue).run('stats', [now])) as [
        number,
        number,
        number,
        number,
        number,
        string,
        string,
      ];
      return {
        waiting: r[0],
        delayed: r[1],
        running: r[2],
        completed: r[3],
        dead: r[4],
        pausedUntil: r[5] === '' ? null : decodeUntil(Number(r[5])),
        oldestWaitingSince: r[6] === '' ? null : Number(r[6]),
      };
    });
  }

  async leaseHolders(now: number): Promise<LeaseHolder[]> {
    return this.guard(async () =>
      leaseHolders((queue) => this.scripts(queue), await this.queuesOf(undefined), now),
    );
  }

  async queues(): Promise<string[]> {
    return this.guard(async () => {
      const names = await this.client.smembers(this.registryKey);
      const live = await Promise.all(
        names.map(async (name) => {
          const k = this.scripts(name).keys;
          const [sizes, paused] = await Promise.all([
            this.client.exists(k.waiting, k.delayed, k.running, k.completed, k.dead),
            this.client.hexists(k.meta, 'pausedUntil'),
          ]);
          return sizes > 0 || paused === 1 ? name : undefined;
        }),
      );
      return live.filter((name): name is string => name !== undefined).sort();
    });
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    return this.guard(async () => {
      const parsed = parseJobId(id);
      if (!parsed) return undefined;
      const hash = await this.client.hgetall(this.scripts(parsed.queue).jobKey(parsed.member));
      if (hash.state === undefined) return undefined;
      return toJobRecord(id, parsed.queue, hash);
    });
  }

  async listDead(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    return this.guard(async () =>
      readDeadLetters(this.client, (queue) => this.scripts(queue), await this.deadRefs(query)),
    );
  }

  async countDeadByCategory(query: DeadLetterQuery = {}): Promise<CategoryCount[]> {
    return this.guard(async () => {
      const queues = await this.queuesOf(query.queue);
      // A text filter is in the messages: read the category of each match; otherwise count the sets.
      const refs =
        query.text === undefined
          ? undefined
          : await this.deadRefs({ ...query, before: undefined, limit: undefined }, queues);
      return countDeadByCategory(this.client, (queue) => this.scripts(queue), queues, query, refs);
    });
  }

  async finishedPerBucket(request: ThroughputRequest): Promise<Throughput> {
    return this.guard(async () => {
      checkThroughputRequest(request);
      return finishedPerBucket(
        this.client,
        (queue) => this.scripts(queue),
        await this.queuesOf(request.queue),
        request,
      );
    });
  }

  async requeueDead(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): Promise<string[]> {
    return this.guard(async () => {
      if (!('ids' in selector)) {
        // By query: one pass; a match that left the dead letters meanwhile is skipped, not an error.
        return requeueRefs(
          (queue) => this.scripts(queue),
          await this.deadRefs(selector.query),
          options.now,
          options.dryRun === true,
          REQUEUE_BATCH,
        );
      }
      const ids = [...selector.ids];
      const groups = new Map<string, string[]>();
      for (const id of ids) {
        const parsed = parseJobId(id);
        if (!parsed) throw new JobNotFoundError(id, 'dead letter');
        const members = groups.get(parsed.queue);
        if (members) members.push(parsed.member);
        else groups.set(parsed.queue, [parsed.member]);
      }
      // With several script calls, check every one first so that a missing id writes nothing anywhere.
      const calls = [...groups.values()].reduce(
        (n, members) => n + Math.ceil(members.length / REQUEUE_BATCH),
        0,
      );
      const passes = calls > 1 && !options.dryRun ? [true, false] : [options.dryRun === true];
      for (const dryRun of passes) {
        for (const [queue, members] of groups) {
          for (let i = 0; i < members.length; i += REQUEUE_BATCH) {
            const chunk = members.slice(i, i + REQUEUE_BATCH);
            const reply = (await this.scripts(queue).run('requeueDead', [
              options.now,
              dryRun ? 1 : 0,
              'strict',
              ...chunk,
            ])) as string[];
            if (reply[0] === 'missing')
              throw new JobNotFoundError(jobId(queue, reply[1]!), 'dead letter');
          }
        }
      }
      return ids;
    });
  }

  async purgeDead(query: PurgeQuery): Promise<number> {
    return this.guard(async () => {
      const { keepNewest, ...filter } = query;
      const scope = await this.deadRefs(filter);
      const doomed = keepNewest === undefined ? scope : scope.slice(keepNewest);
      let deleted = 0;
      for (const [queue, indexes] of groupBy(doomed, (ref) => ref.queue)) {
        const members = indexes.map((i) => doomed[i]!.member);
        for (let i = 0; i < members.length; i += REQUEUE_BATCH) {
          deleted += (await this.scripts(queue).run('deleteJobs', [
            'dead',
            ...members.slice(i, i + REQUEUE_BATCH),
          ])) as number;
        }
      }
      return deleted;
    });
  }

  async prune(
    retention: RetentionPolicy,
    now: number,
  ): Promise<{ completed: number; dead: number }> {
    return this.guard(async () => {
      const queues = await this.client.smembers(this.registryKey);
      const total = { completed: 0, dead: 0 };
      for (const queue of queues) {
        for (const state of ['completed', 'dead'] as const) {
          const bound = retention[state];
          const cutoff = Number.isFinite(bound.maxAgeMs) ? now - bound.maxAgeMs : '';
          const maxCount = Number.isFinite(bound.maxCount) ? bound.maxCount : '';
          if (cutoff === '' && maxCount === '') continue;
          for (;;) {
            const deleted = (await this.scripts(queue).run('prune', [
              state,
              cutoff,
              maxCount,
              PRUNE_BATCH,
            ])) as number;
            total[state] += deleted;
            if (deleted < PRUNE_BATCH) break;
          }
        }
      }
      return total;
    });
  }

  async getCheckpoint(key: string): Promise<CheckpointRecord | undefined> {
    return this.guard(() => this.checkpoints.get(key));
  }

  async putCheckpoint(key: string, value: string, now: number): Promise<void> {
    return this.guard(() => this.checkpoints.put(key, value, now));
  }

  async deleteCheckpoint(key: string): Promise<boolean> {
    return this.guard(() => this.checkpoints.delete(key));
  }

  async listCheckpoints(prefix = ''): Promise<CheckpointRecord[]> {
    return this.guard(() => this.checkpoints.list(prefix));
  }

  async readSharedState(): Promise<SharedStateReport> {
    return this.guard(() => readSharedState(this.client, this.prefix));
  }

  async ping(): Promise<void> {
    return this.guard(async () => {
      await this.client.ping();
    });
  }

  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.client.off('error', this.onClientError);
    this.client.off('ready', this.onClientReady);
    if (!this.ownsClient) return;
    // QUIT waits for replies in flight; a frozen or gone server must not hold close() up.
    await Promise.race([
      this.client.quit().catch(() => undefined),
      this.clock.sleep(1_000, undefined, { unref: true }),
    ]);
    this.client.disconnect();
  }

  toString(): string {
    return `RedisStore(${this.target}, prefix ${JSON.stringify(this.prefix)})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  toJSON(): { kind: string; target: string; prefix: string } {
    return { kind: this.kind, target: this.target, prefix: this.prefix };
  }

  private scripts(queue: string): QueueScripts {
    let scripts = this.scriptsByQueue.get(queue);
    if (!scripts) {
      scripts = new QueueScripts(this.client, this.prefix, queue);
      this.scriptsByQueue.set(queue, scripts);
    }
    return scripts;
  }

  /** The named queue, or every registered one. */
  private async queuesOf(queue: string | undefined): Promise<string[]> {
    return queue !== undefined ? [queue] : this.client.smembers(this.registryKey);
  }

  /** The dead letters a query selects, without reading their hashes (unless the text filter must). */
  private async deadRefs(query: DeadLetterQuery, queues?: readonly string[]): Promise<DeadRef[]> {
    return selectDeadRefs(
      this.client,
      (queue) => this.scripts(queue),
      queues ?? (await this.queuesOf(query.queue)),
      query,
    );
  }

  private async register(queue: string): Promise<void> {
    await this.client.sadd(this.registryKey, queue);
  }

  /** Moves the keys of a store written before the rename (prefix `lifeline`) once, before the first command. */
  private moveLegacyKeys(): Promise<void> {
    this.legacyMove ??= migrateLegacyPrefix(this.client, this.clock).then(
      () => {
        this.legacyChecked = true;
      },
      (error: unknown) => {
        // Try again on the next call (the server may have been unreachable).
        this.legacyMove = undefined;
        throw error;
      },
    );
    return this.legacyMove;
  }

  /**
   * Runs a call; a closed store refuses, and every error leaves as a StoreError that says what
   * happened with no credential in it (see redis-errors.ts).
   */
  private async guard<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed) throw new Error(`The Redis store ${this.target} is closed`);
    if (this.fatal !== undefined) throw this.fatal;
    try {
      if (!this.legacyChecked) await this.moveLegacyKeys();
      if (!this.databaseChecked) {
        this.databaseCheck ??= this.checkDatabase();
        await this.databaseCheck;
      }
      return await call();
    } catch (error) {
      throw toStoreError(error, {
        target: this.target,
        address: this.address,
        secrets: this.#secrets,
        lastConnectionError: this.lastConnectionError,
      });
    }
  }

  /**
   * ioredis answers a failed SELECT (a database the server does not have) by staying in
   * database 0 and reporting nothing to the caller, so the jobs would land in the wrong place.
   * The server's own count (`CONFIG GET databases`, or the `db` of `CLIENT INFO` where CONFIG
   * is disabled) is checked once, before the first call.
   */
  private async checkDatabase(): Promise<void> {
    try {
      if (this.database !== 0) {
        const count = await this.serverDatabases();
        const actual = count === undefined ? await this.connectionDatabase() : undefined;
        if (
          (count !== undefined && this.database >= count) ||
          (actual !== undefined && actual !== this.database)
        ) {
          const has =
            count === undefined
              ? `this connection is on database ${actual}`
              : `the server has ${count} (0 to ${count - 1})`;
          this.fatal = new ConfigError(
            'url',
            this.target,
            `a database the server has: database ${this.database} does not exist at ${this.address}; ${has}`,
          );
          throw this.fatal;
        }
      }
      this.databaseChecked = true;
    } finally {
      this.databaseCheck = undefined;
    }
  }

  private async serverDatabases(): Promise<number | undefined> {
    const reply = await this.client.config('GET', 'databases').catch(rethrowUnlessReplyError);
    const count = Array.isArray(reply) ? Number(reply[1]) : Number.NaN;
    return Number.isSafeInteger(count) && count > 0 ? count : undefined;
  }

  private async connectionDatabase(): Promise<number | undefined> {
    const info = await this.client.call('CLIENT', 'INFO').catch(rethrowUnlessReplyError);
    const match = typeof info === 'string' ? / db=(\d+) /.exec(info) : null;
    return match ? Number(match[1]) : undefined;
  }
}

/** CONFIG or CLIENT INFO refused (disabled, an ACL): the check cannot tell, which is no error. A dropped connection is. */
function rethrowUnlessReplyError(error: unknown): undefined {
  if ((error as { name?: unknown } | null)?.name === 'ReplyError') return undefined;
  throw error;
}
