import type {
  AttemptRecord,
  ClaimedJob,
  DeadLetter,
  FaultSummary,
  JobRecord,
  JobState,
} from '../../durable/store.js';
import { escapeKeyPart, unescapeKeyPart } from './keys.js';

/**
 * Conversions between Redis replies and the store's records. A job's public id names its queue
 * (`<escaped queue>:<sequence>`) so that by-id operations find the queue's keys without a global
 * index (which could not live in the queue's cluster slot).
 */

export function jobId(queue: string, member: string): string {
  return `${escapeKeyPart(queue)}:${Number(member)}`;
}

export function memberOf(seq: number): string {
  return String(seq).padStart(15, '0');
}

/** The queue and member an id names, or undefined when it is not a Redis store id. */
export function parseJobId(id: string): { queue: string; member: string } | undefined {
  const colon = id.lastIndexOf(':');
  if (colon < 0) return undefined;
  const seqText = id.slice(colon + 1);
  if (!/^[1-9][0-9]{0,14}$/.test(seqText)) return undefined;
  return { queue: unescapeKeyPart(id.slice(0, colon)), member: memberOf(Number(seqText)) };
}

type Reply = string | null;

function optional<K extends string, V>(key: K, value: V | null | undefined): { [P in K]?: V } {
  return (value === null || value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function optionalNumber<K extends string>(key: K, value: Reply | undefined): { [P in K]?: number } {
  return optional(
    key,
    value === null || value === undefined || value === '' ? undefined : Number(value),
  );
}

/** Entries per job in a claim reply, after the leaseUntil that starts it (see claim.lua). */
export const CLAIM_FIELDS = 5;

/** One job of a claim reply: the header's numbers, the payload, checkpoint, idempotency key and job headers. */
export function toClaimedJob(
  queue: string,
  reply: readonly Reply[],
  offset: number,
  leaseUntil: number,
): ClaimedJob {
  const header = reply[offset]!.split(' ');
  const maxAttempts = header[4]!;
  const checkpoint = reply[offset + 2];
  const idempotencyKey = reply[offset + 3];
  const headers = reply[offset + 4];
  const job: { -readonly [K in keyof ClaimedJob]: ClaimedJob[K] } = {
    id: jobId(queue, header[0]!),
    token: header[1]!,
    queue,
    payload: reply[offset + 1]!,
    priority: Number(header[3]),
    attempt: Number(header[2]),
    strikes: Number(header[7]),
    enqueuedAt: Number(header[5]),
    runAt: Number(header[6]),
    leaseUntil,
  };
  if (maxAttempts !== '') job.maxAttempts = Number(maxAttempts);
  if (checkpoint !== null && checkpoint !== undefined) job.checkpoint = checkpoint;
  if (idempotencyKey !== null && idempotencyKey !== undefined) job.idempotencyKey = idempotencyKey;
  if (headers !== null && headers !== undefined) job.headers = headers;
  return job;
}

/** A job hash (HGETALL) as a JobRecord. */
export function toJobRecord(id: string, queue: string, h: Record<string, string>): JobRecord {
  // Lease fields stay in the hash after a job leaves 'running' (see scripts/common.lua.ts).
  const running = h.state === 'running';
  return {
    id,
    queue,
    state: h.state as JobState,
    payload: h.payload ?? '',
    priority: Number(h.priority),
    attempts: Number(h.attempts ?? 0),
    ...optionalNumber('maxAttempts', h.maxAttempts),
    enqueuedAt: Number(h.enqueuedAt),
    runAt: Number(h.runAt),
    ...optionalNumber('leaseUntil', running ? h.leaseUntil : undefined),
    ...optional('workerId', running ? h.workerId : undefined),
    ...optionalNumber('finishedAt', h.finishedAt),
    ...optional('idempotencyKey', h.idem),
    ...optional('checkpoint', h.checkpoint),
    history: JSON.parse(h.history ?? '[]') as AttemptRecord[],
    ...optional('fault', h.fault === undefined ? undefined : (JSON.parse(h.fault) as FaultSummary)),
    ...optional('headers', h.headers),
  };
}

export function toDeadLetter(record: JobRecord): DeadLetter {
  return {
    id: record.id,
    queue: record.queue,
    payload: record.payload,
    priority: record.priority,
    attempts: record.attempts,
    enqueuedAt: record.enqueuedAt,
    deadAt: record.finishedAt ?? 0,
    fault: record.fault ?? { category: 'unknown', message: '', suggestions: [] },
    history: record.history,
    ...optional('checkpoint', record.checkpoint),
    ...optional('idempotencyKey', record.idempotencyKey),
    ...optional('headers', record.headers),
  };
}
