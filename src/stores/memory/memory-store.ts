import { checkThroughputRequest } from '../../durable/dead-letter-rules.js';
import { JobNotFoundError } from '../../durable/errors.js';
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
  FaultSummary,
  JobRecord,
  LeaseHolder,
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
import {
  boundHistory,
  crashLoopFault,
  mergePause,
  pauseInForce,
  refuseTransaction,
} from '../../durable/store-rules.js';
import {
  leaseLostRecord,
  type MemoryJob,
  newMemoryJob,
  toClaimed,
  toDeadLetter,
  toRecord,
} from './memory-job.js';
import {
  countByCategory,
  countQueue,
  finishedPerBucket,
  leaseHolders,
  matchDead,
  beyondRetention,
  claimOrder,
} from './memory-queries.js';
import { asyncDispose } from '../../dispose/async-dispose.js';

/**
 * A store in this process's memory: for tests and for work that need not survive a restart.
 * It follows the DurableStore contract exactly (the conformance suite checks it) and is the
 * reference the other stores are compared with. Every method completes synchronously inside
 * its promise, which makes each one atomic.
 */
export class MemoryStore implements DurableStore {
  readonly kind = 'memory';
  private readonly jobs = new Map<string, MemoryJob>();
  private readonly byKey = new Map<string, string>();
  private readonly pauses = new Map<string, number>();
  private readonly checkpoints = new Map<string, CheckpointRecord>();
  private nextSeq = 1;
  private nextToken = 1;
  private closed = false;

  async enqueue(
    jobs: readonly NewJob[],
    now: number,
    options?: StoreEnqueueOptions,
  ): Promise<EnqueueResult[]> {
    refuseTransaction('memory', options);
    this.open();
    return jobs.map((job) => {
      const keyId =
        job.idempotencyKey === undefined
          ? undefined
          : this.byKey.get(idemKey(job.queue, job.idempotencyKey));
      if (keyId !== undefined) return { id: keyId, created: false };
      const seq = this.nextSeq++;
      const stored = newMemoryJob(job, seq, now);
      this.jobs.set(stored.id, stored);
      if (job.idempotencyKey !== undefined)
        this.byKey.set(idemKey(job.queue, job.idempotencyKey), stored.id);
      return { id: stored.id, created: true };
    });
  }

  async claim(request: ClaimRequest): Promise<ClaimedJob[]> {
    this.open();
    const { queue, now } = request;
    if (pauseInForce(this.pauses.get(queue), now) !== null) return [];
    const candidates: MemoryJob[] = [];
    for (const job of this.jobs.values()) {
      if (job.queue !== queue) continue;
      if (job.state === 'running' && job.leaseUntil! <= now) {
        // Its worker died or stalled: recover it, or dead-letter it when it keeps doing that.
        job.history.push(leaseLostRecord(job));
        boundHistory(job.history);
        // A crash costs a strike, not a plan attempt.
        job.attempts = Math.max(0, job.attempts - 1);
        job.lostToken = job.token;
        if (job.strikes >= request.maxStrikes) this.kill(job, crashLoopFault(job.strikes), now);
        else this.toWaiting(job, job.runAt);
      }
      if (job.state === 'waiting' && job.runAt <= now) candidates.push(job);
    }
    candidates.sort(claimOrder);
    const claimed: ClaimedJob[] = [];
    let struckLeft = request.maxStruck ?? Number.POSITIVE_INFINITY;
    for (const job of candidates) {
      if (claimed.length >= request.limit) break;
      if (job.strikes > 0) {
        if (struckLeft <= 0) continue;
        struckLeft--;
      }
      const token = `m${this.nextToken++}`;
      job.state = 'running';
      job.token = token;
      job.workerId = request.workerId;
      job.claimedAt = now;
      job.leaseUntil = now + request.leaseMs;
      job.attempts += 1;
      claimed.push(toClaimed(job));
      job.strikes += 1;
    }
    return claimed;
  }

  async renew(leases: readonly LeaseRef[], leaseMs: number, now: number): Promise<string[]> {
    this.open();
    const lost: string[] = [];
    for (const lease of leases) {
      const job = this.held(lease);
      if (job) job.leaseUntil = now + leaseMs;
      else lost.push(lease.id);
    }
    return lost;
  }

  async settle(outcomes: readonly Outcome[], now: number): Promise<SettleResult> {
    this.open();
    const lost: string[] = [];
    for (const outcome of outcomes) {
      const job = this.held(outcome);
      if (!job) {
        lost.push(outcome.id);
        this.forgiveLostClaim(outcome);
        continue;
      }
      job.lostToken = undefined;
      if (outcome.kind === 'release' && outcome.unstarted) {
        // The claim is undone: the handler never ran, so it costs the job nothing.
        job.attempts = Math.max(0, job.attempts - 1);
        job.strikes = Math.max(0, job.strikes - 1);
        this.toWaiting(job, outcome.runAt ?? now);
        continue;
      }
      job.strikes = 0;
      switch (outcome.kind) {
        case 'complete':
          this.finish(job, 'completed', now);
          break;
        case 'retry':
          job.history.push(outcome.record);
          boundHistory(job.history);
          this.toWaiting(job, outcome.runAt);
          break;
        case 'dead':
          job.history.push(outcome.record);
          boundHistory(job.history);
          this.kill(job, outcome.fault, now);
          break;
        case 'release':
          if (outcome.record) job.history.push(outcome.record);
          boundHistory(job.history);
          if (outcome.refund) job.attempts = Math.max(0, job.attempts - 1);
          this.toWaiting(job, outcome.runAt ?? now);
          break;
      }
    }
    return { lost };
  }

  async saveJobCheckpoint(lease: LeaseRef, checkpoint: string): Promise<boolean> {
    this.open();
    const job = this.held(lease);
    if (!job) return false;
    job.checkpoint = checkpoint;
    return true;
  }

  async pause(queue: string, until: number | null, now: number, replace = false): Promise<void> {
    this.open();
    this.pauses.set(queue, mergePause(this.pauses.get(queue), until, now, replace));
  }

  async resume(queue: string): Promise<void> {
    this.open();
    this.pauses.delete(queue);
  }

  async stats(queue: string, now: number): Promise<QueueCounts> {
    this.open();
    return {
      ...countQueue(this.jobs.values(), queue, now),
      pausedUntil: pauseInForce(this.pauses.get(queue), now),
    };
  }

  async leaseHolders(now: number): Promise<LeaseHolder[]> {
    this.open();
    return leaseHolders(this.jobs.values(), now);
  }

  async queues(): Promise<string[]> {
    this.open();
    const names = new Set<string>(this.pauses.keys());
    for (const job of this.jobs.values()) names.add(job.queue);
    return [...names].sort();
  }

  async getJob(id: string): Promise<JobRecord | undefined> {
    this.open();
    const job = this.jobs.get(id);
    return job && toRecord(job);
  }

  async listDead(query: DeadLetterQuery = {}): Promise<DeadLetter[]> {
    this.open();
    const found = matchDead(this.jobs.values(), query);
    const limited = query.limit === undefined ? found : found.slice(0, query.limit);
    return limited.map(toDeadLetter);
  }

  async countDeadByCategory(query: DeadLetterQuery = {}): Promise<CategoryCount[]> {
    this.open();
    return countByCategory(matchDead(this.jobs.values(), { ...query, before: undefined }));
  }

  async finishedPerBucket(request: ThroughputRequest): Promise<Throughput> {
    this.open();
    return finishedPerBucket(this.jobs.values(), checkThroughputRequest(request));
  }

  async requeueDead(
    selector: DeadLetterSelector,
    options: { readonly now: number; readonly dryRun?: boolean },
  ): Promise<string[]> {
    this.open();
    let targets: MemoryJob[];
    if ('ids' in selector) {
      targets = selector.ids.map((id) => {
        const job = this.jobs.get(id);
        if (job?.state !== 'dead') throw new JobNotFoundError(id, 'dead letter');
        return job;
      });
    } else {
      targets = matchDead(this.jobs.values(), selector.query);
      if (selector.query.limit !== undefined) targets = targets.slice(0, selector.query.limit);
    }
    if (!options.dryRun) {
      for (const job of new Set(targets)) {
        job.attempts = 0;
        job.strikes = 0;
        job.lostToken = undefined;
        job.fault = undefined;
        job.finishedAt = undefined;
        this.toWaiting(job, options.now);
      }
    }
    return targets.map((job) => job.id);
  }

  async purgeDead(query: PurgeQuery): Promise<number> {
    this.open();
    const { keepNewest, ...filter } = query;
    const scope = matchDead(this.jobs.values(), filter);
    const doomed = keepNewest === undefined ? scope : scope.slice(keepNewest);
    for (const job of doomed) this.remove(job);
    return doomed.length;
  }

  async prune(
    retention: RetentionPolicy,
    now: number,
  ): Promise<{ completed: number; dead: number }> {
    this.open();
    return {
      completed: this.pruneState('completed', retention.completed, now),
      dead: this.pruneState('dead', retention.dead, now),
    };
  }

  async getCheckpoint(key: string): Promise<CheckpointRecord | undefined> {
    this.open();
    return this.checkpoints.get(key);
  }

  async putCheckpoint(key: string, value: string, now: number): Promise<void> {
    this.open();
    this.checkpoints.set(key, { key, value, updatedAt: now });
  }

  async deleteCheckpoint(key: string): Promise<boolean> {
    this.open();
    return this.checkpoints.delete(key);
  }

  async listCheckpoints(prefix = ''): Promise<CheckpointRecord[]> {
    this.open();
    return [...this.checkpoints.values()]
      .filter((c) => c.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async ping(): Promise<void> {
    this.open();
  }

  /** `await using` calls `close()`. */
  [asyncDispose](): Promise<void> {
    return this.close();
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private open(): void {
    if (this.closed) throw new Error('The memory store is closed');
  }

  /** A late outcome of the claim the last recovery took away: its worker lived, so its strike is taken back. */
  private forgiveLostClaim(lease: LeaseRef): void {
    const job = this.jobs.get(lease.id);
    if (
      !job ||
      job.lostToken !== lease.token ||
      (job.state !== 'waiting' && job.state !== 'running')
    )
      return;
    job.strikes = Math.max(0, job.strikes - 1);
    job.lostToken = undefined;
  }

  private held(lease: LeaseRef): MemoryJob | undefined {
    const job = this.jobs.get(lease.id);
    return job && job.state === 'running' && job.token === lease.token ? job : undefined;
  }

  private toWaiting(job: MemoryJob, runAt: number): void {
    job.state = 'waiting';
    job.runAt = runAt;
    job.token = undefined;
    job.workerId = undefined;
    job.claimedAt = undefined;
    job.leaseUntil = undefined;
  }

  private finish(job: MemoryJob, state: 'completed' | 'dead', now: number): void {
    this.toWaiting(job, job.runAt);
    job.state = state;
    job.finishedAt = now;
  }

  private kill(job: MemoryJob, fault: FaultSummary, now: number): void {
    this.finish(job, 'dead', now);
    job.fault = fault;
  }

  private remove(job: MemoryJob): void {
    this.jobs.delete(job.id);
    if (job.idempotencyKey !== undefined) this.byKey.delete(idemKey(job.queue, job.idempotencyKey));
  }

  private pruneState(state: 'completed' | 'dead', bound: RetentionBound, now: number): number {
    const doomed = beyondRetention(this.jobs.values(), state, bound, now);
    for (const job of doomed) this.remove(job);
    return doomed.length;
  }
}

function idemKey(queue: string, key: string): string {
  return `${queue}\u0000${key}`;
}
