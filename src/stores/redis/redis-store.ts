import { inspect } from 'node:util';
import type { Redis } from 'ioredis';
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
import { decodeUntil, encodeUntil, refuseTransaction } from '../../durable/store-rules.js';
import type { Clock } from '../../time/clock.js';
import { RedisCheckpoints } from './checkpoints.js';
import { RedisCallGuard } from './call-guard.js';
import { pruneQueues } from './retention.js';
import { QueueRegistry } from './queue-registry.js';
import { type RedisStoreOptions, resolveRedisOptions } from './options.js';
import { countDeadByCategory, finishedPerBucket } from './finished-counts.js';
import { leaseHolders } from './lease-holders.js';
import { globalKey } from './keys.js';
import {
  type DeadRef,
  deleteRefs,
  readDeadLetters,
  requeueIds,
  requeueRefs,
  selectDeadRefs,
} from './dead-letters.js';
import { byQueue, groupBy } from './grouping.js';
import { claimArgs, pushOutcome } from './lease-args.js';
import { QueueScripts } from './queue-scripts.js';
import { CLAIM_FIELDS, jobId, parseJobId, toClaimedJob, toJobRecord } from './records.js';
import { readSharedState } from './shared-state.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

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
  private readonly scriptsByQueue = new Map<string, QueueScripts>();
  private readonly registry: QueueRegistry;
  private readonly checkpoints: RedisCheckpoints;
  private readonly clock: Clock;
  private readonly calls: RedisCallGuard;

  /** `new RedisStore('redis://host:6379')` or `new RedisStore({ url, prefix, ... })`. */
  constructor(options: RedisStoreOptions | string) {
    const resolved = resolveRedisOptions(options);
    this.prefix = resolved.prefix;
    this.clock = resolved.clock;
    this.client = resolved.client;
    this.ownsClient = resolved.ownsClient;
    this.target = resolved.target;
    this.calls = new RedisCallGuard(resolved);
    const prefix = resolved.prefix;
    this.registry = new QueueRegistry(this.client, globalKey(prefix, 'queues'), (queue) =>
      this.scripts(queue),
    );
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
          this.registry.register(queue),
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
      const reply = (await this.scripts(request.queue).run('claim', claimArgs(request))) as (
        | string
        | null
      )[];
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
        for (const { member, item } of refs) pushOutcome(args, member, item);
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
        this.registry.register(queue),
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
      leaseHolders((queue) => this.scripts(queue), await this.registry.of(undefined), now),
    );
  }

  async queues(): Promise<string[]> {
    return this.guard(() => this.registry.live());
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
      const queues = await this.registry.of(query.queue);
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
        await this.registry.of(request.queue),
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
      return requeueIds(
        (queue) => this.scripts(queue),
        selector.ids,
        options.now,
        options.dryRun === true,
        REQUEUE_BATCH,
      );
    });
  }

  async purgeDead(query: PurgeQuery): Promise<number> {
    return this.guard(async () => {
      const { keepNewest, ...filter } = query;
      const scope = await this.deadRefs(filter);
      const doomed = keepNewest === undefined ? scope : scope.slice(keepNewest);
      return deleteRefs((queue) => this.scripts(queue), doomed, REQUEUE_BATCH);
    });
  }

  async prune(
    retention: RetentionPolicy,
    now: number,
  ): Promise<{ completed: number; dead: number }> {
    return this.guard(async () => {
      const queues = await this.registry.all();
      return pruneQueues((queue) => this.scripts(queue), queues, retention, now, PRUNE_BATCH);
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
    if (this.calls.isClosed) return;
    this.calls.close();
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

  /** The dead letters a query selects, without reading their hashes (unless the text filter must). */
  private async deadRefs(query: DeadLetterQuery, queues?: readonly string[]): Promise<DeadRef[]> {
    return selectDeadRefs(
      this.client,
      (queue) => this.scripts(queue),
      queues ?? (await this.registry.of(query.queue)),
      query,
    );
  }

  /** Runs a call through the guard: closed, legacy keys, database check, errors without credentials. */
  private guard<T>(call: () => Promise<T>): Promise<T> {
    return this.calls.run(call);
  }
}
