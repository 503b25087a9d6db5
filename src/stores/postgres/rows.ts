import type {
  AttemptRecord,
  ClaimedJob,
  DeadLetter,
  FaultSummary,
  JobRecord,
  JobState,
} from '../../durable/store.js';

/**
 * Rows of `<schema>.jobs` as node-postgres returns them (BIGINT as text, JSONB parsed) and their
 * conversion to the store interface's records.
 */

const STATE_NAME: readonly JobState[] = ['waiting', 'running', 'completed', 'dead'];

type Big = string | number;

export interface JobRow {
  id: Big;
  queue: string;
  state: number;
  payload: string;
  priority: number;
  run_at: Big;
  enqueued_at: Big;
  attempts: number;
  max_attempts: number | null;
  strikes: number;
  token: string | null;
  worker_id: string | null;
  claimed_at: Big | null;
  lease_until: Big | null;
  finished_at: Big | null;
  idempotency_key: string | null;
  checkpoint: string | null;
  history: AttemptRecord[] | string;
  fault: FaultSummary | string | null;
  /** JSON text (schema version 2). */
  headers: string | null;
}

export type ClaimRow = Pick<
  JobRow,
  | 'id'
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
  | 'headers'
>;

/** JSONB arrives parsed from node-postgres, as text from clients with other type parsers. */
function json<T>(value: T | string): T {
  return typeof value === 'string' ? (JSON.parse(value) as T) : value;
}

export function toClaimed(row: ClaimRow, queue: string, token: string): ClaimedJob {
  const job: Record<string, unknown> = {
    id: String(row.id),
    token,
    queue,
    payload: row.payload,
    priority: row.priority,
    attempt: row.attempts,
    strikes: row.strikes,
    enqueuedAt: Number(row.enqueued_at),
    runAt: Number(row.run_at),
    leaseUntil: Number(row.lease_until),
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
    enqueuedAt: Number(row.enqueued_at),
    runAt: Number(row.run_at),
    history: json(row.history),
  };
  if (row.max_attempts !== null) record.maxAttempts = row.max_attempts;
  if (row.lease_until !== null) record.leaseUntil = Number(row.lease_until);
  if (row.worker_id !== null) record.workerId = row.worker_id;
  if (row.finished_at !== null) record.finishedAt = Number(row.finished_at);
  if (row.idempotency_key !== null) record.idempotencyKey = row.idempotency_key;
  if (row.checkpoint !== null) record.checkpoint = row.checkpoint;
  if (row.fault !== null) record.fault = json(row.fault);
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
    enqueuedAt: Number(row.enqueued_at),
    deadAt: Number(row.finished_at),
    fault: json(row.fault ?? 'null'),
    history: json(row.history),
  };
  if (row.checkpoint !== null) letter.checkpoint = row.checkpoint;
  if (row.idempotency_key !== null) letter.idempotencyKey = row.idempotency_key;
  if (row.headers !== null) letter.headers = row.headers;
  return letter as unknown as DeadLetter;
}

/** Sorts claimed rows as the contract orders them (RETURNING does not promise an order). */
export function claimOrder(a: ClaimRow, b: ClaimRow): number {
  return (
    b.priority - a.priority || Number(a.run_at) - Number(b.run_at) || Number(a.id) - Number(b.id)
  );
}

/** A job id as the database knows it, or null for text that cannot be one (so it matches nothing). */
export function toRowId(id: string): string | null {
  return /^[1-9][0-9]{0,17}$/.test(id) ? id : null;
}

/** One claim of one job, as a set key: outcomes are judged by id and token together. */
export function leaseKey(lease: { readonly id: string; readonly token: string }): string {
  return `${lease.id} ${lease.token}`;
}

/** Rows are locked in id order by every batch, so two batches never wait on each other in a cycle. */
export function sortById<T extends { readonly id: string }>(items: readonly T[]): T[] {
  return [...items].sort(
    (a, b) => a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}
