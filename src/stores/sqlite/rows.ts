import type {
  AttemptRecord,
  ClaimedJob,
  DeadLetter,
  FaultSummary,
  JobRecord,
  JobState,
} from '../../durable/store.js';

/** Row shapes of `faultline_jobs` and their conversion to the store interface's records. */

export const STATE_CODE = { waiting: 0, running: 1, completed: 2, dead: 3 } as const;
const STATE_NAME: readonly JobState[] = ['waiting', 'running', 'completed', 'dead'];

export interface JobRow {
  id: number;
  queue: string;
  state: number;
  payload: string;
  priority: number;
  run_at: number;
  enqueued_at: number;
  attempts: number;
  max_attempts: number | null;
  strikes: number;
  token: string | null;
  worker_id: string | null;
  claimed_at: number | null;
  lease_until: number | null;
  finished_at: number | null;
  idempotency_key: string | null;
  checkpoint: string | null;
  history: string;
  fault: string | null;
  /** JSON text (schema version 2). */
  headers: string | null;
}

export type ClaimRow = Pick<
  JobRow,
  | 'id'
  | 'queue'
  | 'payload'
  | 'priority'
  | 'attempts'
  | 'strikes'
  | 'max_attempts'
  | 'enqueued_at'
  | 'run_at'
  | 'lease_until'
  | 'checkpoint'
  | 'idempotency_key'
  | 'token'
  | 'headers'
>;

export function toClaimed(row: ClaimRow): ClaimedJob {
  const job: Record<string, unknown> = {
    id: String(row.id),
    token: row.token,
    queue: row.queue,
    payload: row.payload,
    priority: row.priority,
    attempt: row.attempts,
    strikes: row.strikes,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    leaseUntil: row.lease_until,
  };
  if (row.max_attempts !== null) job.maxAttempts = row.max_attempts;
  if (row.checkpoint !== null) job.checkpoint = row.checkpoint;
  if (row.idempotency_key !== null) job.idempotencyKey = row.idempotency_key;
  if (row.headers !== null) job.headers = row.headers;
  return job as unknown as ClaimedJob;
}

export function toRecord(row: JobRow): JobRecord {
  const record: Record<string, unknown> = {
    id: String(row.id),
    queue: row.queue,
    state: STATE_NAME[row.state],
    payload: row.payload,
    priority: row.priority,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    runAt: row.run_at,
    history: JSON.parse(row.history) as AttemptRecord[],
  };
  if (row.max_attempts !== null) record.maxAttempts = row.max_attempts;
  if (row.lease_until !== null) record.leaseUntil = row.lease_until;
  if (row.worker_id !== null) record.workerId = row.worker_id;
  if (row.finished_at !== null) record.finishedAt = row.finished_at;
  if (row.idempotency_key !== null) record.idempotencyKey = row.idempotency_key;
  if (row.checkpoint !== null) record.checkpoint = row.checkpoint;
  if (row.fault !== null) record.fault = JSON.parse(row.fault) as FaultSummary;
  if (row.headers !== null) record.headers = row.headers;
  return record as unknown as JobRecord;
}

export function toDeadLetter(row: JobRow): DeadLetter {
  const letter: Record<string, unknown> = {
    id: String(row.id),
    queue: row.queue,
    payload: row.payload,
    priority: row.priority,
    attempts: row.attempts,
    enqueuedAt: row.enqueued_at,
    deadAt: row.finished_at,
    fault: JSON.parse(row.fault ?? 'null') as FaultSummary,
    history: JSON.parse(row.history) as AttemptRecord[],
  };
  if (row.checkpoint !== null) letter.checkpoint = row.checkpoint;
  if (row.idempotency_key !== null) letter.idempotencyKey = row.idempotency_key;
  if (row.headers !== null) letter.headers = row.headers;
  return letter as unknown as DeadLetter;
}

/** Sorts claimed rows as the contract orders them (RETURNING does not promise an order). */
export function claimOrder(a: ClaimRow, b: ClaimRow): number {
  return b.priority - a.priority || a.run_at - b.run_at || a.id - b.id;
}

/** A job id as the row id it names; an id that is not one matches no row (-1). */
export function toRowId(id: string): number {
  const n = Number(id);
  return Number.isSafeInteger(n) ? n : -1;
}
