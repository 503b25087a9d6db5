import type {
  AttemptRecord,
  ClaimedJob,
  DeadLetter,
  FaultSummary,
  JobRecord,
  JobState,
  NewJob,
} from '../../durable/store.js';

/** A job as the memory store holds it, and its conversion to the interface's records (copies). */
export interface MemoryJob {
  readonly id: string;
  readonly seq: number;
  readonly queue: string;
  readonly payload: string;
  readonly priority: number;
  readonly enqueuedAt: number;
  readonly idempotencyKey: string | undefined;
  readonly maxAttempts: number | undefined;
  /** JSON text, as given at enqueue. */
  readonly headers: string | undefined;
  state: JobState;
  runAt: number;
  attempts: number;
  strikes: number;
  token: string | undefined;
  /** The token of the last lease recovered after it expired (see DurableStore.settle, unstarted). */
  lostToken: string | undefined;
  workerId: string | undefined;
  claimedAt: number | undefined;
  leaseUntil: number | undefined;
  finishedAt: number | undefined;
  checkpoint: string | undefined;
  history: AttemptRecord[];
  fault: FaultSummary | undefined;
}

/** A job as enqueue stores it: waiting, never claimed, with the store's sequence number as its id. */
export function newMemoryJob(job: NewJob, seq: number, now: number): MemoryJob {
  return {
    id: String(seq),
    seq,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    enqueuedAt: now,
    idempotencyKey: job.idempotencyKey,
    maxAttempts: job.maxAttempts,
    headers: job.headers,
    state: 'waiting',
    runAt: job.runAt,
    attempts: 0,
    strikes: 0,
    token: undefined,
    lostToken: undefined,
    workerId: undefined,
    claimedAt: undefined,
    leaseUntil: undefined,
    finishedAt: undefined,
    checkpoint: undefined,
    history: [],
    fault: undefined,
  };
}

export function leaseLostRecord(job: MemoryJob): AttemptRecord {
  return {
    attempt: job.attempts,
    workerId: job.workerId ?? '',
    startedAt: job.claimedAt ?? 0,
    durationMs: Math.max(0, job.leaseUntil! - (job.claimedAt ?? 0)),
    outcome: 'lease_lost',
  };
}

export function toClaimed(job: MemoryJob): ClaimedJob {
  return {
    id: job.id,
    token: job.token!,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    attempt: job.attempts,
    strikes: job.strikes,
    ...(job.maxAttempts === undefined ? {} : { maxAttempts: job.maxAttempts }),
    enqueuedAt: job.enqueuedAt,
    runAt: job.runAt,
    leaseUntil: job.leaseUntil!,
    ...(job.checkpoint === undefined ? {} : { checkpoint: job.checkpoint }),
    ...(job.idempotencyKey === undefined ? {} : { idempotencyKey: job.idempotencyKey }),
    ...(job.headers === undefined ? {} : { headers: job.headers }),
  };
}

export function toRecord(job: MemoryJob): JobRecord {
  return {
    id: job.id,
    queue: job.queue,
    state: job.state,
    payload: job.payload,
    priority: job.priority,
    attempts: job.attempts,
    ...(job.maxAttempts === undefined ? {} : { maxAttempts: job.maxAttempts }),
    enqueuedAt: job.enqueuedAt,
    runAt: job.runAt,
    ...(job.leaseUntil === undefined ? {} : { leaseUntil: job.leaseUntil }),
    ...(job.workerId === undefined ? {} : { workerId: job.workerId }),
    ...(job.finishedAt === undefined ? {} : { finishedAt: job.finishedAt }),
    ...(job.idempotencyKey === undefined ? {} : { idempotencyKey: job.idempotencyKey }),
    ...(job.checkpoint === undefined ? {} : { checkpoint: job.checkpoint }),
    history: [...job.history],
    ...(job.fault === undefined ? {} : { fault: job.fault }),
    ...(job.headers === undefined ? {} : { headers: job.headers }),
  };
}

export function toDeadLetter(job: MemoryJob): DeadLetter {
  return {
    id: job.id,
    queue: job.queue,
    payload: job.payload,
    priority: job.priority,
    attempts: job.attempts,
    enqueuedAt: job.enqueuedAt,
    deadAt: job.finishedAt!,
    fault: job.fault!,
    history: [...job.history],
    ...(job.checkpoint === undefined ? {} : { checkpoint: job.checkpoint }),
    ...(job.idempotencyKey === undefined ? {} : { idempotencyKey: job.idempotencyKey }),
    ...(job.headers === undefined ? {} : { headers: job.headers }),
  };
}
