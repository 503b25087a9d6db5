import type { CheckpointRecord, LeaseRef } from '../../durable/store.js';
import type { Queryable } from './connection.js';
import { toRowId } from './rows.js';
import type { Statements } from './statements.js';

/** Checkpoints on PostgreSQL: a running job's own (fenced by its lease) and the keyed table. */

/** Saves a running job's checkpoint; false when the lease is no longer held. */
export async function saveJobCheckpoint(
  db: Queryable,
  sql: Statements,
  lease: LeaseRef,
  checkpoint: string,
): Promise<boolean> {
  const id = toRowId(lease.id);
  if (id === null) return false;
  return ((await db.query(sql.saveCheckpoint, [id, lease.token, checkpoint])).rowCount ?? 0) > 0;
}

interface CheckpointRow {
  key: string;
  value: string;
  updated_at: string;
}

const toCheckpoint = (row: CheckpointRow): CheckpointRecord => ({
  key: row.key,
  value: row.value,
  updatedAt: Number(row.updated_at),
});

export async function getCheckpoint(
  db: Queryable,
  sql: Statements,
  key: string,
): Promise<CheckpointRecord | undefined> {
  const row = (await db.query(sql.getCheckpoint, [key])).rows[0] as CheckpointRow | undefined;
  return row && toCheckpoint(row);
}

export async function putCheckpoint(
  db: Queryable,
  sql: Statements,
  key: string,
  value: string,
  now: number,
): Promise<void> {
  await db.query(sql.putCheckpoint, [key, value, now]);
}

export async function deleteCheckpoint(
  db: Queryable,
  sql: Statements,
  key: string,
): Promise<boolean> {
  return ((await db.query(sql.deleteCheckpoint, [key])).rowCount ?? 0) > 0;
}

export async function listCheckpoints(
  db: Queryable,
  sql: Statements,
  prefix: string,
): Promise<CheckpointRecord[]> {
  return ((await db.query(sql.listCheckpoints, [prefix])).rows as CheckpointRow[]).map(
    toCheckpoint,
  );
}
